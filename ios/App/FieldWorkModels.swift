// The field work's screen models, mirroring the Android app's
// state/ReportStates.kt, CaseWorkStates.kt and FieldStates.kt (tested on the
// JVM there; not compiled here): reporting a dispute from scratch or from a
// visit's lead with captioned photos and the core's case-number warning; the
// work on a case (sessions, an agreement with signature photos, follow-ups,
// closing) and a returned file's missing papers photographed; finding a
// household offline with its standing; a cadre's violations, restoring and the
// screening; a legal advisor's consultations. Every rule, order and filter is
// the core's; the models hold the form and show the core's answers.
import Foundation
import FengqiaoCore

/// The field work's calls over the one FieldClient (blocking store work off the main actor).
protocol FieldGateway {
    func currentUser() -> User?
    func disputeKinds() -> [DisputeKind]
    func draftFromLead(visitId: String, leadId: String) async throws -> NewDispute
    func report(_ d: NewDispute) async throws -> Dispute
    func attachPhoto(_ p: NewPhoto) async throws -> Attachment
    func caseNumberStock() async throws -> CaseNumberStock
    func file(disputeId: String) async throws -> DisputeFile
    func actions(disputeId: String) async throws -> DisputeActions
    func checklist(disputeId: String) async throws -> CaseFileCheck
    func recordSession(_ s: NewSession) async throws
    func recordAgreement(_ a: NewAgreement) async throws
    func recordFollowUp(_ f: NewFollowUp) async throws
    func close(disputeId: String, outcome: ClosingOutcome, note: String) async throws
    func attachCaseFilePhoto(_ p: NewPhoto, item: String) async throws -> Attachment
    func search(query: String, limit: UInt32) async throws -> [HouseholdMatch]
    func negativeList(householdId: String) async throws -> [NegativeItem]
    func violations(householdId: String) async throws -> [ViolationItem]
    func recordViolation(_ v: NewViolation) async throws -> Violation
    func restore(violationId: String, note: String) async throws -> Violation
    func screeningDue() async throws -> ScreeningDue?
    func focusAreas() -> [FocusArea]
    func fileScreening(_ s: NewScreening) async throws -> Screening
    func recordConsultation(_ c: NewConsultation) async throws -> Consultation
    func myConsultations() async throws -> [ConsultationItem]
}

struct CoreField: FieldGateway {
    let client: FieldClient
    func currentUser() -> User? { client.currentUser() }
    func disputeKinds() -> [DisputeKind] { client.disputeKinds() }
    func draftFromLead(visitId: String, leadId: String) async throws -> NewDispute {
        try await offMain { try client.disputeDraftFromLead(visitId: visitId, leadId: leadId) }
    }
    func report(_ d: NewDispute) async throws -> Dispute { try await offMain { try client.reportDispute(dispute: d) } }
    func attachPhoto(_ p: NewPhoto) async throws -> Attachment { try await offMain { try client.attachPhoto(photo: p) } }
    func caseNumberStock() async throws -> CaseNumberStock { try await offMain { try client.caseNumberStock() } }
    func file(disputeId: String) async throws -> DisputeFile { try await offMain { try client.disputeFile(disputeId: disputeId) } }
    func actions(disputeId: String) async throws -> DisputeActions { try await offMain { try client.allowedActions(disputeId: disputeId) } }
    func checklist(disputeId: String) async throws -> CaseFileCheck { try await offMain { try client.caseFileCheck(disputeId: disputeId) } }
    func recordSession(_ s: NewSession) async throws { _ = try await offMain { try client.recordSession(session: s) } }
    func recordAgreement(_ a: NewAgreement) async throws { _ = try await offMain { try client.recordAgreement(agreement: a) } }
    func recordFollowUp(_ f: NewFollowUp) async throws { _ = try await offMain { try client.recordFollowUp(followUp: f) } }
    func close(disputeId: String, outcome: ClosingOutcome, note: String) async throws {
        _ = try await offMain { try client.closeDispute(disputeId: disputeId, outcome: outcome, note: note) }
    }
    func attachCaseFilePhoto(_ p: NewPhoto, item: String) async throws -> Attachment {
        try await offMain { try client.attachCaseFilePhoto(photo: p, fileItem: item) }
    }
    func search(query: String, limit: UInt32) async throws -> [HouseholdMatch] {
        try await offMain { try client.searchHouseholds(query: query, limit: limit) }
    }
    func negativeList(householdId: String) async throws -> [NegativeItem] { try await offMain { try client.negativeList(householdId: householdId) } }
    func violations(householdId: String) async throws -> [ViolationItem] { try await offMain { try client.violationsFor(householdId: householdId) } }
    func recordViolation(_ v: NewViolation) async throws -> Violation { try await offMain { try client.recordViolation(violation: v) } }
    func restore(violationId: String, note: String) async throws -> Violation {
        try await offMain { try client.restoreHousehold(violationId: violationId, note: note) }
    }
    func screeningDue() async throws -> ScreeningDue? { try await offMain { try client.screeningDue() } }
    func focusAreas() -> [FocusArea] { client.focusAreas() }
    func fileScreening(_ s: NewScreening) async throws -> Screening { try await offMain { try client.fileScreening(screening: s) } }
    func recordConsultation(_ c: NewConsultation) async throws -> Consultation {
        try await offMain { try client.recordConsultation(consultation: c) }
    }
    func myConsultations() async throws -> [ConsultationItem] { try await offMain { try client.myConsultations() } }
}

/// A photo chosen for a record (camera or photo library), with its caption.
struct ChosenPhoto: Equatable { enum Source { case camera, gallery }; let path: String; let source: Source; var caption = ""; var contentType = "image/jpeg" }

/// 矛盾纠纷登记: mirrors ReportDisputeState.
@MainActor
final class ReportModel: ObservableObject {
    @Published var kind: String?
    @Published var originUnit: String?
    @Published var parties: [Party] = []
    @Published var summary = ""
    @Published var grade: Grade = .general
    @Published var cause = ""
    @Published var consequences = ""
    @Published var difficulty: Difficulty = .low
    @Published var photos: [ChosenPhoto] = []
    @Published private(set) var kinds: [DisputeKind] = []
    @Published private(set) var leadId: String?
    @Published private(set) var foundAtMs: Int64?
    @Published private(set) var stock: CaseNumberStock?
    @Published private(set) var reported: Dispute?
    @Published private(set) var photoErrors: [UiError] = []
    @Published private(set) var error: UiError?
    private let gateway: FieldGateway
    init(gateway: FieldGateway) { self.gateway = gateway }

    /// The core's warning about the case numbers left, when it gives one.
    var stockWarning: String? { stock.flatMap { $0.low ? $0.warning : nil } }

    func load() async {
        kinds = gateway.disputeKinds()
        originUnit = originUnit ?? gateway.currentUser()?.roles.first?.unitId
        do { stock = try await gateway.caseNumberStock() } catch { self.error = UiError.of(error) }
    }

    func startFromLead(visitId: String, leadId: String) async {
        do {
            let d = try await gateway.draftFromLead(visitId: visitId, leadId: leadId)
            if !d.kind.isEmpty { kind = d.kind }
            originUnit = d.originUnit; parties = d.parties; summary = d.summary; grade = d.grade
            cause = d.analysis.cause; consequences = d.analysis.consequences; difficulty = d.analysis.difficulty
            self.leadId = d.leadId; foundAtMs = d.foundAtMs; error = nil
        } catch { self.error = UiError.of(error) }
    }

    func report() async {
        guard reported == nil else { return }
        do {
            let d = try await gateway.report(NewDispute(
                kind: kind ?? "", originUnit: originUnit ?? "", parties: parties, summary: summary.trimmingCharacters(in: .whitespaces),
                grade: grade, analysis: Analysis(cause: cause, consequences: consequences, difficulty: difficulty),
                foundAtMs: foundAtMs, leadId: leadId, level: nil))
            var failed: [UiError] = []
            for p in photos {
                do { _ = try await gateway.attachPhoto(NewPhoto(targetKind: "dispute", targetId: d.id, sourcePath: p.path, contentType: p.contentType, caption: p.caption)) }
                catch { failed.append(UiError.of(error)) }
            }
            reported = d; photoErrors = failed; error = nil
            stock = try? await gateway.caseNumberStock()
        } catch { self.error = UiError.of(error) }
    }
}

/// 案件办理: mirrors CaseWorkState.
@MainActor
final class CaseWorkModel: ObservableObject {
    @Published private(set) var file: DisputeFile?
    @Published private(set) var actions: DisputeActions?
    @Published private(set) var checklist: CaseFileCheck?
    @Published private(set) var error: UiError?
    let disputeId: String
    private let gateway: FieldGateway
    init(gateway: FieldGateway, disputeId: String) { self.gateway = gateway; self.disputeId = disputeId }

    var missing: [ChecklistLine] { checklist?.missing ?? [] }
    var returnedReasons: [String] { checklist?.lastReview.flatMap { $0.review.passed ? nil : $0.reasons } ?? [] }
    var readyForReview: Bool { checklist?.readyForReview ?? false }

    func load() async {
        do {
            file = try await gateway.file(disputeId: disputeId)
            actions = try await gateway.actions(disputeId: disputeId)
            checklist = try await gateway.checklist(disputeId: disputeId)
            error = nil
        } catch { self.error = UiError.of(error) }
    }

    private func act(_ body: () async throws -> Void) async -> Bool {
        do { try await body(); await load(); return true } catch { self.error = UiError.of(error); return false }
    }

    func recordSession(record: String, agreed: Bool, place: String) async -> Bool {
        await act { try await gateway.recordSession(NewSession(disputeId: disputeId, record: record, agreed: agreed, place: place, heldAtMs: nil, mediators: [], participants: [])) }
    }

    func recordAgreement(terms: String, sumFen: Int64, obligations: String, signatures: [ChosenPhoto]) async -> Bool {
        await act {
            var hashes: [String] = []
            for p in signatures {
                hashes.append(try await gateway.attachPhoto(NewPhoto(targetKind: "dispute", targetId: disputeId, sourcePath: p.path, contentType: p.contentType, caption: p.caption.isEmpty ? "协议签字" : p.caption)).sha256)
            }
            try await gateway.recordAgreement(NewAgreement(disputeId: disputeId, terms: terms, sumFen: sumFen, obligations: obligations, signedAtMs: nil, signaturePhotos: hashes))
        }
    }

    func recordFollowUp(fulfilled: Bool, satisfaction: Satisfaction, note: String) async -> Bool {
        await act { try await gateway.recordFollowUp(NewFollowUp(disputeId: disputeId, fulfilled: fulfilled, satisfaction: satisfaction, note: note, atMs: nil)) }
    }

    func close(outcome: ClosingOutcome, note: String) async -> Bool {
        await act { try await gateway.close(disputeId: disputeId, outcome: outcome, note: note) }
    }

    /// Files a photographed paper under a checklist item (one the review found missing).
    func filePaper(item: String, photo: ChosenPhoto) async -> Bool {
        let label = checklist?.items.first { $0.code == item }?.label ?? item
        return await act { _ = try await gateway.attachCaseFilePhoto(NewPhoto(targetKind: "dispute", targetId: disputeId, sourcePath: photo.path, contentType: photo.contentType, caption: photo.caption.isEmpty ? label : photo.caption), item: item) }
    }
}

/// 户籍查询: mirrors HouseholdSearchState.
@MainActor
final class HouseholdSearchModel: ObservableObject {
    @Published private(set) var query = ""
    @Published private(set) var results: [HouseholdMatch] = []
    @Published private(set) var error: UiError?
    private let gateway: FieldGateway
    init(gateway: FieldGateway) { self.gateway = gateway }

    func setQuery(_ q: String) async {
        query = q
        do {
            let found = try await gateway.search(query: q, limit: 100)
            if query == q { results = found; error = nil }
        } catch { if query == q { self.error = UiError.of(error) } }
    }
}

/// 负面清单: mirrors HouseholdPreventState.
@MainActor
final class HouseholdPreventModel: ObservableObject {
    @Published private(set) var items: [NegativeItem] = []
    @Published private(set) var violations: [ViolationItem]?
    @Published var itemCode: String?
    @Published var note = ""
    @Published private(set) var error: UiError?
    let householdId: String
    private let gateway: FieldGateway
    init(gateway: FieldGateway, householdId: String) { self.gateway = gateway; self.householdId = householdId }

    var correctionDays: UInt32? { items.first { $0.code == itemCode }?.correctionDays }

    func load() async {
        do { items = try await gateway.negativeList(householdId: householdId); error = nil } catch { self.error = UiError.of(error) }
        violations = try? await gateway.violations(householdId: householdId)
    }

    func record() async -> Bool {
        do {
            _ = try await gateway.recordViolation(NewViolation(householdId: householdId, itemCode: itemCode ?? "", note: note, evidence: []))
            note = ""; await load(); return true
        } catch { self.error = UiError.of(error); return false }
    }

    func restore(violationId: String, note: String) async -> Bool {
        do { _ = try await gateway.restore(violationId: violationId, note: note); await load(); return true }
        catch { self.error = UiError.of(error); return false }
    }
}

/// 矛盾纠纷排查: mirrors ScreeningState.
@MainActor
final class ScreeningModel: ObservableObject {
    @Published private(set) var due: ScreeningDue?
    @Published private(set) var focusAreas: [FocusArea] = []
    @Published var chosenAreas: Set<String> = []
    @Published var hazards: [String] = []
    @Published var note = ""
    @Published private(set) var filedPeriod: String?
    @Published private(set) var error: UiError?
    private let gateway: FieldGateway
    init(gateway: FieldGateway) { self.gateway = gateway }

    func load() async {
        focusAreas = gateway.focusAreas()
        do { due = try await gateway.screeningDue(); error = nil } catch { self.error = UiError.of(error) }
    }

    func file() async -> Bool {
        guard let due else { return false }
        do {
            let s = try await gateway.fileScreening(NewScreening(villageId: due.villageId, period: due.period, hazards: hazards, focusAreas: Array(chosenAreas), newDisputes: [], note: note))
            filedPeriod = s.period; await load(); return true
        } catch { self.error = UiError.of(error); return false }
    }
}

/// 法律咨询: mirrors ConsultationState.
@MainActor
final class ConsultationModel: ObservableObject {
    @Published private(set) var mine: [ConsultationItem] = []
    @Published var question = ""
    @Published var answer = ""
    @Published var outcome: ConsultationOutcome?
    @Published var satisfaction: Satisfaction?
    @Published private(set) var error: UiError?
    private let gateway: FieldGateway
    init(gateway: FieldGateway) { self.gateway = gateway }

    func load() async {
        do { mine = try await gateway.myConsultations(); error = nil } catch { self.error = UiError.of(error) }
    }

    func record() async -> Bool {
        guard let outcome else { error = UiError.local("outcome_required"); return false }
        guard let satisfaction else { error = UiError.local("satisfaction_required"); return false }
        let village = gateway.currentUser()?.roles.first?.unitId ?? ""
        do {
            _ = try await gateway.recordConsultation(NewConsultation(villageId: village, question: question, answer: answer, outcome: outcome, satisfaction: satisfaction, atMs: nil))
            question = ""; answer = ""; self.outcome = nil; self.satisfaction = nil
            await load(); return true
        } catch { self.error = UiError.of(error); return false }
    }
}
