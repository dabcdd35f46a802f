// The phone lock (mirroring the Android app's LockState): while the user's
// data is locked the app shows this view — the PIN (checked offline by the
// core) or Face ID / Touch ID through LocalAuthentication; out of PIN attempts
// only the password (an online login) opens the phone. The app locks when the
// scene goes to the background. PinSettingsSection sets or removes the PIN.
import SwiftUI
import LocalAuthentication
import FengqiaoCore

@MainActor
final class LockModel: ObservableObject {
    @Published private(set) var status: LockStatus?
    @Published var pin = ""
    @Published private(set) var busy = false
    @Published private(set) var error: UiError?
    private let gateway: LockGateway

    init(gateway: LockGateway) { self.gateway = gateway }

    var locked: Bool { status?.locked ?? false }
    var pinSet: Bool { status?.pinSet ?? false }
    var passwordRequired: Bool { locked && status?.attemptsLeft == 0 }
    var offerBiometric: Bool { locked && (status?.biometricAllowed ?? false) && !busy && !passwordRequired }
    /// What a PIN looks like is the core's rule (`invalidInput`, no attempt spent).
    var canSubmit: Bool { locked && !busy && !passwordRequired && !pin.isEmpty }

    /// Reads the core's lock status (at start, back from the background, after a login).
    func refresh() async {
        do { status = try await gateway.lockStatus() } catch { self.error = UiError.of(error) }
    }

    /// The scene went to the background: close the data now (no-op without a PIN).
    func lockNow() {
        gateway.lock()
        pin = ""
        error = nil
        if let s = status {
            status = LockStatus(pinSet: s.pinSet, locked: s.pinSet, biometricAllowed: s.biometricAllowed,
                                attemptsLeft: s.attemptsLeft, retryAfterSecs: s.retryAfterSecs)
        }
    }

    func submitPin() async {
        let typed = pin.filter(\.isNumber)
        pin = ""
        guard !typed.isEmpty else { return }
        busy = true; error = nil
        defer { busy = false }
        do {
            try await gateway.unlock(pin: typed)
            await refresh()
        } catch {
            self.error = UiError.of(error)
            if case let .WrongPin(_, _, attemptsLeft, retryAfterSecs) = error as? FengqiaoError, let s = status {
                status = LockStatus(pinSet: s.pinSet, locked: true, biometricAllowed: s.biometricAllowed,
                                    attemptsLeft: attemptsLeft, retryAfterSecs: retryAfterSecs)
            }
        }
    }

    /// Face ID / Touch ID (or the device passcode as the system's fallback is not offered:
    /// `.deviceOwnerAuthenticationWithBiometrics`); the result goes to the core.
    func unlockWithBiometrics() async {
        let context = LAContext()
        var reason: NSError?
        guard context.canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: &reason) else {
            error = .local("biometric_failed")
            return
        }
        let verified: Bool
        do {
            verified = try await context.evaluatePolicy(.deviceOwnerAuthenticationWithBiometrics,
                                                        localizedReason: L10n.t("lock_biometric_reason"))
        } catch {
            // Cancelled, failed or locked out by the system: the PIN stays possible.
            self.error = .local("biometric_failed")
            return
        }
        guard verified else { error = .local("biometric_failed"); return }
        busy = true; error = nil
        defer { busy = false }
        do {
            try await gateway.unlockWithBiometric(verified: true)
            await refresh()
        } catch { self.error = UiError.of(error) }
    }

    func setPin(_ newPin: String, allowBiometric: Bool) async -> Bool {
        do {
            try await gateway.setPin(newPin, allowBiometric: allowBiometric)
            error = nil
            await refresh()
            return true
        } catch {
            self.error = UiError.of(error)
            return false
        }
    }

    func clearPin() async {
        do { try await gateway.clearPin(); error = nil } catch { self.error = UiError.of(error) }
        await refresh()
    }
}

struct LockView: View {
    @ObservedObject var model: LockModel
    @EnvironmentObject var env: AppEnvironment

    var body: some View {
        if model.passwordRequired {
            VStack {
                Text(L10n.t("lock_password_required")).foregroundStyle(.red).padding()
                // A successful online login opens the phone again in the core.
                LoginView(model: LoginModel(gateway: env.core)) { Task { await model.refresh() } }
            }
        } else {
            Form {
                Section(header: Text(L10n.t("lock_title")).font(.largeTitle)) {
                    SecureField(L10n.t("lock_pin"), text: $model.pin)
                        .keyboardType(.numberPad)
                        .onChange(of: model.pin) { v in
                            let digits = String(v.filter(\.isNumber).prefix(12))
                            if digits != v { model.pin = digits }
                        }
                }
                if let s = model.status {
                    if s.retryAfterSecs > 0 { Text(L10n.f("lock_wait", Int(s.retryAfterSecs))) }
                    if s.attemptsLeft < 10 { Text(L10n.f("lock_attempts_left", Int(s.attemptsLeft))) }
                }
                if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
                Button(L10n.t("lock_unlock")) { Task { await model.submitPin() } }
                    .disabled(!model.canSubmit)
                if model.offerBiometric {
                    Button(L10n.t("lock_use_biometric")) { Task { await model.unlockWithBiometrics() } }
                }
            }
            .task { if model.offerBiometric { await model.unlockWithBiometrics() } }
        }
    }
}

/// Set, change or remove the PIN (in the sync tab).
struct PinSettingsSection: View {
    @ObservedObject var model: LockModel
    @State private var newPin = ""
    @State private var allowBiometric = true

    var body: some View {
        Section(header: Text(L10n.t("lock_settings_title"))) {
            Text(L10n.t(model.pinSet ? "lock_pin_is_set" : "lock_pin_not_set"))
            SecureField(L10n.t("lock_new_pin"), text: $newPin).keyboardType(.numberPad)
            Toggle(L10n.t("lock_allow_biometric"), isOn: $allowBiometric)
            Button(L10n.t("lock_set_pin")) {
                Task { if await model.setPin(newPin, allowBiometric: allowBiometric) { newPin = "" } }
            }
            if model.pinSet {
                Button(L10n.t("lock_clear_pin"), role: .destructive) { Task { await model.clearPin() } }
            }
        }
        .task { await model.refresh() }
    }
}
