// Login (登录). The password is cleared after every attempt.
import SwiftUI
import FengqiaoCore

@MainActor
final class LoginModel: ObservableObject {
    @Published var username = ""
    @Published var password = ""
    @Published private(set) var busy = false
    @Published private(set) var error: UiError?
    private let gateway: SessionGateway

    init(gateway: SessionGateway) { self.gateway = gateway }

    var canSubmit: Bool { !busy && !username.trimmingCharacters(in: .whitespaces).isEmpty && !password.isEmpty }

    func submit() async -> Bool {
        let user = username.trimmingCharacters(in: .whitespaces)
        guard !user.isEmpty, !password.isEmpty else { error = .local("missing_credentials"); return false }
        busy = true; error = nil
        defer { busy = false; password = "" }
        do {
            _ = try await gateway.login(username: user, password: password)
            return true
        } catch {
            self.error = UiError.of(error)
            return false
        }
    }

    /// Signing out was refused because the phone is locked: unlock, or sign out with the password.
    var logoutNeedsPassword: Bool { error?.code == "locked" }

    /// Signs a locked phone out with the typed password (checked online); the password is cleared either way.
    func logoutWithPassword() async -> Bool {
        guard !password.isEmpty else { error = .local("missing_credentials"); return false }
        busy = true; error = nil
        defer { busy = false; password = "" }
        do {
            try await gateway.logoutWithPassword(password)
            return true
        } catch {
            self.error = UiError.of(error)
            return false
        }
    }
}

struct LoginView: View {
    @StateObject var model: LoginModel
    let onSignedIn: () -> Void

    var body: some View {
        Form {
            Section(header: Text(L10n.t("app_name")).font(.largeTitle)) {
                TextField(L10n.t("login_username"), text: $model.username)
                    .textInputAutocapitalization(.never).autocorrectionDisabled()
                SecureField(L10n.t("login_password"), text: $model.password)
            }
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            Button(L10n.t("login_submit")) {
                Task { if await model.submit() { onSignedIn() } }
            }
            .disabled(!model.canSubmit)
        }
    }
}
