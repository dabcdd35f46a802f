// The approver's inbox (上报审批): approve or refuse; refusing needs a comment.
// Opening a request shows the whole case first (one core call) with the core's
// comment templates; a decision that lost to a colleague's shows in the history
// with the decision that stands (mirror of InboxState.kt).
import SwiftUI

/// The approver's reads beyond the list: the whole case and my decisions.
protocol ApprovalsGateway: Sendable {
    func inboxCase(escalationId: String) async throws -> InboxCase
    func myDecisions() async throws -> [MyDecision]
}

final class CoreApprovals: ApprovalsGateway, @unchecked Sendable {
    let client: FieldClient
    init(client: FieldClient) { self.client = client }
    func inboxCase(escalationId: String) async throws -> InboxCase {
        try await offMain { try self.client.inboxCase(escalationId: escalationId) }
    }
    func myDecisions() async throws -> [MyDecision] { try await offMain { try self.client.myDecisions() } }
}

@MainActor
final class InboxModel: ObservableObject {
    @Published private(set) var rows: [InboxRow] = []
    @Published var comments: [String: String] = [:]
    @Published private(set) var busyId: String?
    @Published private(set) var error: UiError?
    /// The request opened: its whole case, as the core gives it.
    @Published private(set) var openCase: InboxCase?
    /// My decisions, newest first, each lost one with the decision that stands.
    @Published private(set) var history: [MyDecision] = []
    private var decided: Set<String> = []
    private let gateway: LadderGateway
    private let approvals: ApprovalsGateway?
    init(gateway: LadderGateway, approvals: ApprovalsGateway? = nil) { self.gateway = gateway; self.approvals = approvals }

    func open(_ escalationId: String) async {
        guard let a = approvals else { return }
        do { openCase = try await a.inboxCase(escalationId: escalationId); error = nil } catch { self.error = UiError.of(error) }
    }

    func useTemplate(_ escalationId: String, _ template: String) { comments[escalationId] = template }

    func loadHistory() async {
        guard let a = approvals else { return }
        if let h = try? await a.myDecisions() { history = h }
    }

    func refresh() async {
        do {
            // In the core's order (most severe, then oldest): the domain's rule.
            rows = try await gateway.inbox().filter { !decided.contains($0.escalationId) }
            error = nil
        } catch { self.error = UiError.of(error) }
        await loadHistory()
    }

    func decide(_ id: String, approve: Bool) async {
        guard busyId == nil else { return }
        let comment = (comments[id] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // A refusal without a comment is refused by the core (the domain's rule).
        busyId = id; defer { busyId = nil }
        do {
            try await gateway.decide(escalationId: id, approve: approve, comment: comment)
            decided.insert(id)
            rows.removeAll { $0.escalationId == id }
            comments[id] = nil
            if openCase?.escalation.id == id { openCase = nil }
            error = nil
            await loadHistory()
            BackgroundSync.schedule()
        } catch { self.error = UiError.of(error) }
    }
}

struct InboxView: View {
    @StateObject var model: InboxModel

    var body: some View {
        List {
            NavigationLink(L10n.t("review_title")) {
                CaseReviewQueueView(model: ReviewModel(gateway: CoreReviews(client: AppEnvironment.shared.client)))
            }
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if model.rows.isEmpty { Text(L10n.t("inbox_empty")) }
            ForEach(model.rows) { r in
                VStack(alignment: .leading, spacing: 6) {
                    Text("\(r.caseNumber) · \(L10n.grade(r.grade))").font(.caption)
                    Text(r.summary).lineLimit(2)
                    Text(L10n.f("inbox_from_to", L10n.level(r.fromLevel), L10n.level(r.toLevel)))
                    Text(L10n.reason(r.reason) + (r.note.isEmpty ? "" : "：\(r.note)")).font(.callout)
                    Text(L10n.time(r.requestedAtMs)).font(.caption2)
                    if let c = model.openCase, c.escalation.id == r.escalationId {
                        Text("\(c.kindLabel) · \(c.reasonLabel)").font(.callout)
                        if let who = c.requesterName { Text(L10n.f("inbox_requested_by", who)).font(.caption) }
                        Text(c.deadlineText).font(.caption)
                        Text(c.file.item.dispute.parties.map { $0.name }.joined(separator: "、"))
                        ForEach(c.file.sessions, id: \.id) { s in Text("\(L10n.time(s.heldAtMs)) \(s.place)：\(s.record)").font(.caption) }
                        ForEach(c.file.agreements, id: \.id) { a in Text("\(L10n.time(a.signedAtMs))：\(a.terms)").font(.caption) }
                        ForEach(c.approveTemplates + c.refuseTemplates, id: \.self) { t in
                            Button(t) { model.useTemplate(r.escalationId, t) }.font(.caption)
                        }
                    } else {
                        Button(L10n.t("inbox_whole_case")) { Task { await model.open(r.escalationId) } }
                    }
                    TextField(L10n.t("inbox_comment"), text: Binding(
                        get: { model.comments[r.escalationId] ?? "" },
                        set: { model.comments[r.escalationId] = $0 }
                    ))
                    HStack {
                        Button(L10n.t("approve")) { Task { await model.decide(r.escalationId, approve: true) } }
                            .buttonStyle(.borderedProminent)
                        Button(L10n.t("refuse")) { Task { await model.decide(r.escalationId, approve: false) } }
                            .buttonStyle(.bordered)
                    }
                    .disabled(model.busyId != nil)
                }
            }
            if !model.history.isEmpty {
                Section(L10n.t("inbox_history")) {
                    ForEach(model.history, id: \.escalationId) { h in
                        VStack(alignment: .leading) {
                            Text("\(h.caseNumber) · \(L10n.t(h.approved ? "approve" : "refuse")) · \(L10n.time(h.decidedAtMs))")
                            if let s = h.supersededBy {
                                Text(L10n.f("inbox_superseded", s.decidedByName ?? L10n.t("another_approver"),
                                            L10n.t(s.approved ? "approve" : "refuse"), L10n.time(s.decidedAtMs)))
                                    .foregroundStyle(.red).font(.caption)
                            }
                        }
                    }
                }
            }
        }
        .navigationTitle(L10n.t("inbox_title"))
        .task { await model.refresh() }
        .refreshable { await model.refresh() }
    }
}
