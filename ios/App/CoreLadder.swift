// The ladder gateway over the real client: disputes, the flow table,
// escalation requests and decisions, my subsidies — converted into the
// screens' plain values.
import Foundation
import FengqiaoCore

final class CoreLadder: LadderGateway, @unchecked Sendable {
    let client: FieldClient
    init(client: FieldClient) { self.client = client }

    func disputes(filter: DisputeListFilter) async throws -> [DisputeRow] {
        let core: DisputeFilter
        switch filter {
        case .all: core = .all
        case .mine: core = .mine
        case .overdue: core = .overdue
        }
        return try await offMain { try self.client.disputes(filter: core).map(Self.row) }
    }

    func detail(disputeId: String) async throws -> DisputeDetail {
        try await offMain {
            let item = try self.client.dispute(disputeId: disputeId)
            let actions = try self.client.allowedActions(disputeId: disputeId)
            let flow = try self.client.flowTable(disputeId: disputeId).map {
                FlowRow(step: $0.step, kind: String(describing: $0.kind), level: Self.level($0.level), atMs: $0.atMs, note: $0.note)
            }
            let offices = try self.client.officesFor(disputeId: disputeId).map { OfficeOption(id: $0.id, name: $0.name) }
            let a = item.dispute.analysis
            let analysis = DisputeAnalysis(cause: a.cause, consequences: a.consequences, difficulty: Self.difficulty(a.difficulty))
            return DisputeDetail(row: Self.row(item), flow: flow, escalateTo: actions.escalateTo.map(Self.level), decideEscalationId: actions.decide,
                                 offices: offices, analysis: analysis, mayRegrade: actions.regrade)
        }
    }

    func requestEscalation(disputeId: String, to: LadderLevel, reason: EscalationReasonCode, note: String, office: String?) async throws {
        _ = try await offMain {
            try self.client.requestEscalation(disputeId: disputeId, toLevel: Self.coreLevel(to), reason: Self.coreReason(reason), note: note,
                                              toUnit: office)
        }
    }

    func inbox() async throws -> [InboxRow] {
        try await offMain {
            try self.client.escalationInbox().map { i in
                let e = i.escalation, d = i.dispute.dispute
                return InboxRow(escalationId: e.id, disputeId: d.id, caseNumber: d.caseNumber, summary: d.summary,
                                grade: Self.grade(e.grade), fromLevel: Self.level(e.fromLevel), toLevel: Self.level(e.toLevel),
                                reason: Self.reason(e.reason), note: e.note, requestedAtMs: e.requestedAtMs)
            }
        }
    }

    func decide(escalationId: String, approve: Bool, comment: String) async throws {
        _ = try await offMain { try self.client.decideEscalation(escalationId: escalationId, approve: approve, comment: comment) }
    }

    func mySubsidies() async throws -> MySubsidiesView {
        try await offMain {
            let mine = try self.client.mySubsidies()
            let rows = mine.items.map { i in
                let s = i.subsidy
                return SubsidyRow(id: s.id, caseNumber: s.caseNumber, amountFen: s.amountFen, status: Self.status(s.status),
                                  accruedAtMs: s.accruedAtMs, paidAtMs: s.paidAtMs, reason: s.reason, overdue: i.overdue)
            }
            let underReview = mine.byStatus.first { $0.status == .underReview }?.totalFen ?? 0
            return MySubsidiesView(rows: rows, owedFen: mine.owedFen, underReviewFen: underReview, paidFen: mine.paidFen)
        }
    }

    private static func row(_ i: DisputeItem) -> DisputeRow {
        let d = i.dispute
        return DisputeRow(id: d.id, caseNumber: d.caseNumber, kind: d.kind, summary: d.summary, grade: grade(d.grade),
                          level: level(d.level), deadlineAtMs: i.deadlineMs, deadline: i.deadlineState.map(deadline),
                          closed: d.closing != nil, pendingEscalationTo: i.pendingEscalation.map { level($0.toLevel) },
                          handledByMe: i.handledByMe, pending: i.pending, quarantined: i.quarantined)
    }

    private static func level(_ l: Level) -> LadderLevel {
        switch l { case .group: .group; case .village: .village; case .judicialOffice: .judicialOffice; case .town: .town }
    }
    private static func coreLevel(_ l: LadderLevel) -> Level {
        switch l { case .group: .group; case .village: .village; case .judicialOffice: .judicialOffice; case .town: .town }
    }
    func regrade(disputeId: String, grade: DisputeGrade, analysis: DisputeAnalysis, reason: String) async throws {
        let core = Analysis(cause: analysis.cause, consequences: analysis.consequences, difficulty: Self.coreDifficulty(analysis.difficulty))
        _ = try await offMain { try self.client.regradeDispute(disputeId: disputeId, grade: Self.coreGrade(grade), analysis: core, reason: reason) }
    }

    private static func coreGrade(_ g: DisputeGrade) -> Grade {
        switch g { case .general: .general; case .larger: .larger; case .major: .major }
    }
    private static func difficulty(_ d: Difficulty) -> DisputeDifficulty {
        switch d { case .low: .low; case .medium: .medium; case .high: .high }
    }
    private static func coreDifficulty(_ d: DisputeDifficulty) -> Difficulty {
        switch d { case .low: .low; case .medium: .medium; case .high: .high }
    }
    private static func grade(_ g: Grade) -> DisputeGrade {
        switch g { case .general: .general; case .larger: .larger; case .major: .major }
    }
    private static func deadline(_ d: DeadlineState) -> DeadlineStatus {
        switch d { case .ok: .ok; case .approaching: .approaching; case .overdue: .overdue }
    }
    private static func reason(_ r: EscalationReason) -> EscalationReasonCode {
        switch r {
        case .repeatedMediationFailed: .repeatedMediationFailed; case .outsideLevelScope: .outsideLevelScope
        case .partiesAgitated: .partiesAgitated; case .largeSums: .largeSums; case .majorGrade: .majorGrade; case .other: .other
        }
    }
    private static func coreReason(_ r: EscalationReasonCode) -> EscalationReason {
        switch r {
        case .repeatedMediationFailed: .repeatedMediationFailed; case .outsideLevelScope: .outsideLevelScope
        case .partiesAgitated: .partiesAgitated; case .largeSums: .largeSums; case .majorGrade: .majorGrade; case .other: .other
        }
    }
    private static func status(_ s: SubsidyStatus) -> SubsidyStatusCode {
        switch s {
        case .accrued: .accrued; case .underReview: .underReview; case .approved: .approved
        case .batched: .batched; case .paid: .paid; case .rejected: .rejected
        }
    }
}
