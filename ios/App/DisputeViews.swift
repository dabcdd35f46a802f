// Disputes (矛盾纠纷): the list, and a dispute's detail with its flow table
// (流向表) and the escalation request (逐级上报) offering only allowed levels.
import SwiftUI

@MainActor
final class DisputeListModel: ObservableObject {
    /// The core's rows for `filter`, in the core's order: this model neither filters nor sorts.
    @Published private(set) var rows: [DisputeRow] = []
    @Published var filter: DisputeListFilter = .all
    @Published private(set) var error: UiError?
    let gateway: LadderGateway
    init(gateway: LadderGateway) { self.gateway = gateway }

    func refresh() async {
        let asked = filter
        do {
            let rows = try await gateway.disputes(filter: asked)
            // A list asked for before the filter changed is not shown.
            guard asked == filter else { return }
            self.rows = rows
            error = nil
        } catch { self.error = UiError.of(error) }
    }
}

private func statusLine(_ r: DisputeRow) -> String {
    var parts = [L10n.grade(r.grade), L10n.level(r.level)]
    if r.closed { parts.append(L10n.t("dispute_closed")) }
    else if let d = r.deadline { parts.append(L10n.deadline(d)) }
    if r.pending { parts.append(L10n.t("pending_sync")) }
    return parts.joined(separator: " · ")
}

struct DisputeListView: View {
    @StateObject var model: DisputeListModel

    var body: some View {
        List {
            Picker("", selection: $model.filter) {
                Text(L10n.t("filter_all")).tag(DisputeListFilter.all)
                Text(L10n.t("filter_mine")).tag(DisputeListFilter.mine)
                Text(L10n.t("filter_overdue")).tag(DisputeListFilter.overdue)
            }
            .pickerStyle(.segmented)
            .onChange(of: model.filter) { _ in Task { await model.refresh() } }
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            ForEach(model.rows) { r in
                NavigationLink {
                    DisputeDetailView(model: DisputeDetailModel(gateway: model.gateway, disputeId: r.id))
                } label: {
                    VStack(alignment: .leading) {
                        Text(r.caseNumber).font(.caption)
                        Text(r.summary).lineLimit(2)
                        Text(statusLine(r)).font(.caption).foregroundStyle(r.deadline == .overdue ? .red : .secondary)
                    }
                }
            }
        }
        .navigationTitle(L10n.t("disputes_title"))
        .task { await model.refresh() }
        .refreshable { await model.refresh() }
    }
}

@MainActor
final class DisputeDetailModel: ObservableObject {
    @Published private(set) var detail: DisputeDetail?
    @Published var toLevel: LadderLevel?
    @Published var reason: EscalationReasonCode?
    @Published var note = ""
    /// The judicial office chosen (an id of `DisputeDetail.offices`); sent only to the third level.
    @Published var office: String?
    /// The re-grade form while open (`startRegrade`): the new grade and analysis, and why.
    @Published var regradeGrade: DisputeGrade?
    @Published var regradeAnalysis: DisputeAnalysis?
    @Published var regradeReason = ""
    @Published private(set) var regraded = false
    @Published private(set) var submitting = false
    @Published private(set) var requested = false
    @Published private(set) var error: UiError?
    let disputeId: String
    private let gateway: LadderGateway
    init(gateway: LadderGateway, disputeId: String) { self.gateway = gateway; self.disputeId = disputeId }

    var canRequest: Bool {
        guard let d = detail else { return false }
        return !d.escalateTo.isEmpty && d.row.pendingEscalationTo == nil && !d.row.closed
    }

    /// The offices to choose among: the core's list, when the request goes to the
    /// judicial office and the core lists more than one (one is chosen for the user).
    var officeChoice: [OfficeOption] {
        guard toLevel == .judicialOffice, let d = detail, d.offices.count > 1 else { return [] }
        return d.offices
    }

    func load() async {
        do {
            let d = try await gateway.detail(disputeId: disputeId)
            detail = d
            if toLevel == nil, d.escalateTo.count == 1 { toLevel = d.escalateTo[0] }
            if office == nil, d.offices.count == 1 { office = d.offices[0].id }
            error = nil
        } catch { self.error = UiError.of(error) }
    }

    /// Re-grading is offered when the core offers it.
    var canRegrade: Bool { detail?.mayRegrade == true && detail?.analysis != nil }

    /// Opens the re-grade form with the dispute's current grade and analysis.
    func startRegrade() {
        guard canRegrade, let d = detail else { return }
        regradeGrade = d.row.grade; regradeAnalysis = d.analysis; regradeReason = ""; regraded = false; error = nil
    }

    /// Queues the re-grade; the reason is the core's rule (a refusal shows its code and message, the form stays).
    func regrade() async {
        guard canRegrade, !submitting, let g = regradeGrade, let a = regradeAnalysis else { return }
        submitting = true; defer { submitting = false }
        do {
            try await gateway.regrade(disputeId: disputeId, grade: g, analysis: a,
                                      reason: regradeReason.trimmingCharacters(in: .whitespacesAndNewlines))
            regraded = true; regradeGrade = nil; regradeAnalysis = nil; regradeReason = ""; error = nil
            BackgroundSync.schedule()
            await load()
        } catch { self.error = UiError.of(error) }
    }

    func validate() -> UiError? {
        guard let l = toLevel, detail?.escalateTo.contains(l) == true else { return .local("level_required") }
        guard let r = reason else { return .local("reason_required") }
        if r == .other && note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .local("note_required") }
        return nil
    }

    func request() async {
        guard canRequest, !submitting else { return }
        if let e = validate() { error = e; return }
        submitting = true; defer { submitting = false }
        do {
            // With several offices serving the town and none chosen, the core refuses (office_choice_required).
            try await gateway.requestEscalation(disputeId: disputeId, to: toLevel!, reason: reason!, note: note.trimmingCharacters(in: .whitespacesAndNewlines),
                                                office: toLevel == .judicialOffice ? office : nil)
            requested = true; reason = nil; note = ""; error = nil
            BackgroundSync.schedule()
            await load()
        } catch { self.error = UiError.of(error) }
    }
}

struct DisputeDetailView: View {
    @StateObject var model: DisputeDetailModel

    var body: some View {
        Form {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if let d = model.detail {
                Section {
                    Text(d.row.caseNumber).font(.caption)
                    Text(d.row.summary)
                    Text(statusLine(d.row)).font(.caption)
                    Text(L10n.f("dispute_level", L10n.level(d.row.level)))
                    if let to = d.row.pendingEscalationTo { Text(L10n.f("escalation_waiting", L10n.level(to))).foregroundStyle(.orange) }
                }
                Section(L10n.t("flow_table")) {
                    if d.flow.isEmpty { Text(L10n.t("flow_empty")).font(.caption) }
                    ForEach(d.flow) { f in
                        VStack(alignment: .leading) {
                            Text("\(f.step). \(L10n.time(f.atMs)) · \(L10n.level(f.level)) · \(L10n.flowKind(f.kind))")
                            if !f.note.isEmpty { Text(f.note).font(.caption) }
                        }
                    }
                }
                if model.requested { Text(L10n.t("escalation_requested")) }
                if model.canRequest {
                    Section(L10n.t("escalation_request")) {
                        Picker(L10n.t("escalate_to"), selection: $model.toLevel) {
                            ForEach(d.escalateTo, id: \.self) { l in Text(L10n.level(l)).tag(Optional(l)) }
                        }
                        if !model.officeChoice.isEmpty {
                            Picker(L10n.t("escalate_to_office"), selection: $model.office) {
                                Text("—").tag(String?.none)
                                ForEach(model.officeChoice, id: \.id) { o in Text(o.name).tag(Optional(o.id)) }
                            }
                        }
                        Picker(L10n.t("escalation_reason"), selection: $model.reason) {
                            Text("—").tag(EscalationReasonCode?.none)
                            ForEach(EscalationReasonCode.allCases, id: \.self) { r in Text(L10n.reason(r)).tag(Optional(r)) }
                        }
                        TextField(L10n.t("escalation_note"), text: $model.note, axis: .vertical)
                        Button(L10n.t("escalation_submit")) { Task { await model.request() } }.disabled(model.submitting)
                    }
                }
            } else {
                ProgressView()
            }
        }
        .task { await model.load() }
    }
}
