// The approver's inbox (上报审批): approve or refuse; refusing needs a comment.
import SwiftUI

@MainActor
final class InboxModel: ObservableObject {
    @Published private(set) var rows: [InboxRow] = []
    @Published var comments: [String: String] = [:]
    @Published private(set) var busyId: String?
    @Published private(set) var error: UiError?
    private var decided: Set<String> = []
    private let gateway: LadderGateway
    init(gateway: LadderGateway) { self.gateway = gateway }

    func refresh() async {
        do {
            // In the core's order (most severe, then oldest): the domain's rule.
            rows = try await gateway.inbox().filter { !decided.contains($0.escalationId) }
            error = nil
        } catch { self.error = UiError.of(error) }
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
            error = nil
            BackgroundSync.schedule()
        } catch { self.error = UiError.of(error) }
    }
}

struct InboxView: View {
    @StateObject var model: InboxModel

    var body: some View {
        List {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if model.rows.isEmpty { Text(L10n.t("inbox_empty")) }
            ForEach(model.rows) { r in
                VStack(alignment: .leading, spacing: 6) {
                    Text("\(r.caseNumber) · \(L10n.grade(r.grade))").font(.caption)
                    Text(r.summary).lineLimit(2)
                    Text(L10n.f("inbox_from_to", L10n.level(r.fromLevel), L10n.level(r.toLevel)))
                    Text(L10n.reason(r.reason) + (r.note.isEmpty ? "" : "：\(r.note)")).font(.callout)
                    Text(L10n.time(r.requestedAtMs)).font(.caption2)
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
        }
        .navigationTitle(L10n.t("inbox_title"))
        .task { await model.refresh() }
        .refreshable { await model.refresh() }
    }
}
