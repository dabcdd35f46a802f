// The gateways the screen models use over the one FieldClient, and the
// plain values of the ladder screens (mirroring the Android app's state
// layer). Blocking store calls run off the main actor.
import Foundation
import FengqiaoCore

/// A failure as a screen shows it: a stable code (localized by `L10n.error`), the core's message, transience.
struct UiError: Error, Equatable {
    let code: String
    var message: String = ""
    var transient: Bool = false

    static func local(_ code: String) -> UiError { UiError(code: code, message: code) }

    static func of(_ error: Error) -> UiError {
        if let e = error as? FengqiaoError { return UiError(code: e.code(), message: e.detail(), transient: e.isTransient()) }
        if error is CancellationError { return UiError(code: "cancelled") }
        if let e = error as? UiError { return e }
        return UiError(code: "internal", message: String(describing: type(of: error)))
    }

    var needsLogin: Bool { code == "not_logged_in" || code == "session_expired" || code == "device_revoked" }
    var needsUnlock: Bool { code == "locked" }
}

/// Runs a blocking core call off the main actor.
func offMain<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await Task.detached(priority: .userInitiated) { try body() }.value
}

// MARK: - Ladder values (矛盾纠纷, 逐级上报, 案件补贴)

enum LadderLevel: String, CaseIterable { case group, village, judicialOffice, town }
enum DisputeGrade: Int, Comparable { case general, larger, major
    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue } }
enum DeadlineStatus { case ok, approaching, overdue }
/// Mediation difficulty (调解难度), one of the analysis's three axes.
enum DisputeDifficulty: CaseIterable { case low, medium, high }
/// The three-axis analysis (研判): cause, expected consequences, difficulty.
struct DisputeAnalysis: Equatable { var cause: String; var consequences: String; var difficulty: DisputeDifficulty }
enum EscalationReasonCode: CaseIterable { case repeatedMediationFailed, outsideLevelScope, partiesAgitated, largeSums, majorGrade, other }
enum SubsidyStatusCode { case accrued, underReview, approved, batched, paid, rejected }

struct DisputeRow: Identifiable, Equatable {
    let id: String; let caseNumber: String; let kind: String; let summary: String
    let grade: DisputeGrade; let level: LadderLevel; let deadlineAtMs: Int64; let deadline: DeadlineStatus?
    let closed: Bool; var pendingEscalationTo: LadderLevel?; var handledByMe: Bool; var pending: Bool; var quarantined: Bool
}
struct FlowRow: Identifiable, Equatable { var id: UInt32 { step }; let step: UInt32; let kind: String; let level: LadderLevel; let atMs: Int64; let note: String }
struct DisputeDetail: Equatable {
    let row: DisputeRow; let flow: [FlowRow]; let escalateTo: [LadderLevel]; let decideEscalationId: String?
    /// The judicial offices serving the dispute's town, in the core's order.
    var offices: [OfficeOption] = []
    /// The dispute's current analysis (a re-grade form starts from it).
    var analysis: DisputeAnalysis?
    /// The core offers re-grading and re-analysis to this user now.
    var mayRegrade = false
}
/// A judicial office (司法所) a move to the third level may go to.
struct OfficeOption: Equatable, Hashable { let id: String; let name: String }
struct InboxRow: Identifiable, Equatable {
    var id: String { escalationId }
    let escalationId: String; let disputeId: String; let caseNumber: String; let summary: String; let grade: DisputeGrade
    let fromLevel: LadderLevel; let toLevel: LadderLevel; let reason: EscalationReasonCode; let note: String; let requestedAtMs: Int64
}
/// The user's subsidies in the core's order with the core's sums (the app adds nothing up).
struct MySubsidiesView: Equatable {
    var rows: [SubsidyRow] = []
    var owedFen: Int64 = 0
    var underReviewFen: Int64 = 0
    var paidFen: Int64 = 0
}

struct SubsidyRow: Identifiable, Equatable {
    let id: String; let caseNumber: String; let amountFen: Int64; let status: SubsidyStatusCode
    let accruedAtMs: Int64; let paidAtMs: Int64?; let reason: String; let overdue: Bool
}

// MARK: - Gateways

protocol SessionGateway: Sendable {
    func currentUser() -> User?
    func login(username: String, password: String) async throws -> User
    /// Refused with `locked` while the PIN lock is closed.
    func logout() async throws
    /// Signs a locked phone out with the user's password (checked by the server).
    func logoutWithPassword(_ password: String) async throws
}
protocol VisitsGateway: Sendable {
    func households() async throws -> [Household]
    func listVisits(limit: UInt32) async throws -> [VisitItem]
    func recordVisit(_ v: NewVisit) async throws -> Visit
    func attachPhoto(_ p: NewPhoto) async throws -> Attachment
    func photosFor(targetKind: String, targetId: String) async throws -> [AttachedPhoto]
    /// A photo's bytes, decrypted by the core, if its original is on this phone (the file on disk stays encrypted).
    func photoBytes(sha256: String) async throws -> Data?
}
protocol LockGateway: Sendable {
    func lockStatus() async throws -> LockStatus
    func lock()
    func unlock(pin: String) async throws
    func unlockWithBiometric(verified: Bool) async throws
    func setPin(_ pin: String, allowBiometric: Bool) async throws
    func clearPin() async throws
}
protocol SyncGateway: Sendable {
    func sync(onProgress: @escaping @Sendable (SyncPhase, UInt64, UInt64) -> Void) async throws -> SyncReport
    /// Holds a request until the user's scope has a change after the last pull, or
    /// `timeoutSecs` (1...55) pass; then syncs if there was one. nil: nothing changed.
    func waitAndSync(timeoutSecs: UInt32, onProgress: @escaping @Sendable (SyncPhase, UInt64, UInt64) -> Void) async throws -> SyncReport?
    func syncStatus() async throws -> SyncStatus
    func retryQuarantined(opId: String) async throws
    func discardQuarantined(opId: String) async throws
    /// For a quarantined decision that lost to another approver's: the one that stands, the decider named by the core.
    func standingDecision(opId: String) async throws -> EscalationDecision?
}
/// The dispute lists the core offers; which disputes each holds is the core's rule.
enum DisputeListFilter: CaseIterable, Sendable { case all, mine, overdue }
protocol LadderGateway: Sendable {
    /// The core's list for `filter`, in the core's order.
    func disputes(filter: DisputeListFilter) async throws -> [DisputeRow]
    func detail(disputeId: String) async throws -> DisputeDetail
    /// `office`: the judicial office chosen (an id of `DisputeDetail.offices`), only for the third level.
    func requestEscalation(disputeId: String, to: LadderLevel, reason: EscalationReasonCode, note: String, office: String?) async throws
    /// Re-grades and re-analyses an open dispute (重新定级/研判); the core refuses it without a reason (`correction_reason_required`).
    func regrade(disputeId: String, grade: DisputeGrade, analysis: DisputeAnalysis, reason: String) async throws
    func inbox() async throws -> [InboxRow]
    func decide(escalationId: String, approve: Bool, comment: String) async throws
    func mySubsidies() async throws -> MySubsidiesView
}

/// Forwards the core's progress (called on one of its threads) to a closure.
final class ProgressRelay: SyncListener, @unchecked Sendable {
    let relay: @Sendable (SyncPhase, UInt64, UInt64) -> Void
    init(_ relay: @escaping @Sendable (SyncPhase, UInt64, UInt64) -> Void) { self.relay = relay }
    func onProgress(phase: SyncPhase, done: UInt64, total: UInt64) { relay(phase, done, total) }
}

/// Every gateway over the real client.
final class CoreGateways: SessionGateway, VisitsGateway, SyncGateway, LockGateway, @unchecked Sendable {
    let client: FieldClient
    init(client: FieldClient) { self.client = client }

    func currentUser() -> User? { client.currentUser() }
    func login(username: String, password: String) async throws -> User { try await client.login(username: username, password: password) }
    func logout() async throws { try await client.logout() }
    func logoutWithPassword(_ password: String) async throws { try await client.logoutWithPassword(password: password) }

    func households() async throws -> [Household] { try await offMain { try self.client.households() } }
    func listVisits(limit: UInt32) async throws -> [VisitItem] { try await offMain { try self.client.listVisits(limit: limit) } }
    func recordVisit(_ v: NewVisit) async throws -> Visit { try await offMain { try self.client.recordVisit(visit: v) } }
    func attachPhoto(_ p: NewPhoto) async throws -> Attachment { try await offMain { try self.client.attachPhoto(photo: p) } }
    func photosFor(targetKind: String, targetId: String) async throws -> [AttachedPhoto] {
        try await offMain { try self.client.photosFor(targetKind: targetKind, targetId: targetId) }
    }
    func photoBytes(sha256: String) async throws -> Data? { try await offMain { try self.client.photoBytes(sha256: sha256) } }

    func sync(onProgress: @escaping @Sendable (SyncPhase, UInt64, UInt64) -> Void) async throws -> SyncReport {
        // Cancelling the calling Task cancels the sync (queued work stays intact).
        try await client.sync(listener: ProgressRelay(onProgress), cancel: nil)
    }
    func waitAndSync(timeoutSecs: UInt32, onProgress: @escaping @Sendable (SyncPhase, UInt64, UInt64) -> Void) async throws -> SyncReport? {
        try await client.waitAndSync(timeoutSecs: timeoutSecs, listener: ProgressRelay(onProgress), cancel: nil)
    }
    func syncStatus() async throws -> SyncStatus { try await offMain { try self.client.syncStatus() } }
    func retryQuarantined(opId: String) async throws { try await offMain { try self.client.retryQuarantined(opId: opId) } }
    func discardQuarantined(opId: String) async throws { try await offMain { try self.client.discardQuarantined(opId: opId) } }
    func standingDecision(opId: String) async throws -> EscalationDecision? {
        try await offMain { try self.client.standingDecision(opId: opId) }
    }

    func lockStatus() async throws -> LockStatus { try await offMain { try self.client.lockStatus() } }
    func lock() { client.lock() }
    func unlock(pin: String) async throws { try await offMain { try self.client.unlock(pin: pin) } }
    func unlockWithBiometric(verified: Bool) async throws { try await offMain { try self.client.unlockWithBiometric(verified: verified) } }
    func setPin(_ pin: String, allowBiometric: Bool) async throws {
        try await offMain { try self.client.setPin(pin: pin, allowBiometric: allowBiometric) }
    }
    func clearPin() async throws { try await offMain { try self.client.clearPin() } }
}
