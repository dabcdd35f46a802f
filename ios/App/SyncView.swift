// Sync (同步): what waits, the last sync, a running sync's progress, and the
// quarantine of refused operations (retry, or discard after confirming).
import SwiftUI
import FengqiaoCore

@MainActor
final class SyncModel: ObservableObject {
    @Published private(set) var status: SyncStatus?
    @Published private(set) var running = false
    @Published private(set) var phase: SyncPhase?
    @Published private(set) var fraction: Double?
    @Published private(set) var lastReport: SyncReport?
    @Published private(set) var error: UiError?
    /// For each quarantined decision that lost to another approver's (by op id): the one that
    /// stands, with the decider's name from the core (`decidedByName`, nil: "another approver").
    @Published private(set) var standing: [String: EscalationDecision] = [:]
    private var task: Task<Void, Never>?
    private let gateway: SyncGateway
    init(gateway: SyncGateway) { self.gateway = gateway }

    var needsLogin: Bool { status?.sessionExpired == true || error?.needsLogin == true }

    func refresh() async {
        do {
            let s = try await gateway.syncStatus()
            var found: [String: EscalationDecision] = [:]
            for op in s.quarantined where op.kind == "decide_escalation" && op.code == "conflict" {
                if let d = try? await gateway.standingDecision(opId: op.opId) { found[op.opId] = d }
            }
            status = s
            standing = found
        } catch { self.error = UiError.of(error) }
    }

    /// Runs one sync (none if one runs); `cancel()` stops it, queued work intact.
    func syncNow() async {
        guard !running else { return }
        running = true; error = nil; phase = nil; fraction = nil
        let t = Task { [gateway] in
            do {
                let report = try await gateway.sync { phase, done, total in
                    // Called on one of the core's threads: hop to the main actor.
                    Task { @MainActor [weak self] in
                        self?.phase = phase
                        self?.fraction = total == 0 ? nil : Double(done) / Double(total)
                    }
                }
                self.lastReport = report
            } catch {
                self.error = UiError.of(error)
            }
        }
        task = t
        await t.value
        task = nil; running = false; phase = nil; fraction = nil
        await refresh()
    }

    func cancel() { task?.cancel() }

    /// While the app is in the foreground (the view runs this in `.task`, cancelled when it
    /// goes): waits for a change in the user's scope and syncs as soon as one comes. A
    /// failed wait pauses before the next; a lost session or a locked phone stops it.
    func followChanges(timeoutSecs: UInt32 = 25, pauseOnErrorSecs: UInt64 = 5) async {
        while !Task.isCancelled {
            if running {
                try? await Task.sleep(nanoseconds: pauseOnErrorSecs * 1_000_000_000)
                continue
            }
            do {
                let report = try await gateway.waitAndSync(timeoutSecs: timeoutSecs) { phase, done, total in
                    Task { @MainActor [weak self] in
                        self?.phase = phase
                        self?.fraction = total == 0 ? nil : Double(done) / Double(total)
                    }
                }
                phase = nil; fraction = nil
                if let report { lastReport = report; await refresh() }
            } catch {
                if Task.isCancelled { return }
                let e = UiError.of(error)
                self.error = e
                if e.needsLogin || e.needsUnlock { return }
                try? await Task.sleep(nanoseconds: pauseOnErrorSecs * 1_000_000_000)
            }
        }
    }

    func retry(_ opId: String) async {
        do { try await gateway.retryQuarantined(opId: opId); error = nil } catch { self.error = UiError.of(error) }
        await refresh()
    }

    func discard(_ opId: String) async {
        do { try await gateway.discardQuarantined(opId: opId); error = nil } catch { self.error = UiError.of(error) }
        await refresh()
    }
}

struct SyncView: View {
    @StateObject var model: SyncModel
    @EnvironmentObject var env: AppEnvironment
    @State private var confirmDiscard: String?

    var body: some View {
        List {
            if let s = model.status {
                Section {
                    Text(L10n.f("sync_pending_ops", Int(s.pendingOps)))
                    if s.photosPending > 0 { Text(L10n.f("photos_pending", Int(s.photosPending))) }
                    if s.waitingForOtherUsers > 0 { Text(L10n.f("sync_waiting_other_users", Int(s.waitingForOtherUsers))) }
                    Text(s.lastSyncAtMs.map { L10n.f("sync_last", L10n.time($0)) } ?? L10n.t("sync_never"))
                    if let e = s.lastError, !model.running { Text(L10n.f("sync_last_error", L10n.error(UiError(code: e.code, message: e.message)))).foregroundStyle(.red) }
                }
            }
            if model.needsLogin {
                Text(L10n.t("session_expired_login")).foregroundStyle(.red)
                Button(L10n.t("login_submit")) { env.signedIn = false }
            } else if let e = model.error {
                Text(L10n.error(e)).foregroundStyle(.red)
            }
            PinSettingsSection(model: env.lock)
            Section {
                if model.running {
                    Text(phaseText(model.phase))
                    if let f = model.fraction { ProgressView(value: f) } else { ProgressView() }
                    Button(L10n.t("cancel"), role: .cancel) { model.cancel() }
                } else {
                    Button(L10n.t("sync_now")) { Task { await model.syncNow() } }
                    if let r = model.lastReport { Text(L10n.f("sync_done", Int(r.pushedApplied + r.pushedDuplicate), Int(r.pulled))) }
                }
            }
            Section(L10n.t("quarantine_title")) {
                let q = model.status?.quarantined ?? []
                if q.isEmpty { Text(L10n.t("quarantine_empty")) }
                ForEach(q, id: \.opId) { op in
                    VStack(alignment: .leading) {
                        Text("\(op.kind) · \(op.code)").font(.caption)
                        Text(op.message)
                        if let d = model.standing[op.opId] {
                            Text(L10n.f("standing_decision", d.decidedByName ?? L10n.t("another_approver"), d.comment)).font(.caption)
                        }
                        HStack {
                            Button(L10n.t("quarantine_retry")) { Task { await model.retry(op.opId) } }
                            Spacer()
                            Button(L10n.t("quarantine_discard"), role: .destructive) { confirmDiscard = op.opId }
                        }
                        .buttonStyle(.borderless)
                        .disabled(model.running)
                    }
                }
            }
        }
        .navigationTitle(L10n.t("sync_title"))
        .task { await model.refresh() }
        .task { await model.followChanges() }
        .confirmationDialog(L10n.t("quarantine_discard_confirm"), isPresented: Binding(get: { confirmDiscard != nil }, set: { if !$0 { confirmDiscard = nil } }), titleVisibility: .visible) {
            Button(L10n.t("confirm"), role: .destructive) {
                if let id = confirmDiscard { Task { await model.discard(id) } }
                confirmDiscard = nil
            }
        }
    }

    private func phaseText(_ p: SyncPhase?) -> String {
        switch p {
        case .pushing?: L10n.t("sync_phase_pushing")
        case .pulling?: L10n.t("sync_phase_pulling")
        case .uploading?: L10n.t("sync_phase_uploading")
        case nil: L10n.t("loading")
        }
    }
}
