// My subsidies (我的案件补贴): owed, held for review, paid; then each case.
import SwiftUI

@MainActor
final class SubsidiesModel: ObservableObject {
    @Published private(set) var rows: [SubsidyRow] = []
    @Published private(set) var error: UiError?
    private let gateway: LadderGateway
    init(gateway: LadderGateway) { self.gateway = gateway }

    private static let owed: Set<SubsidyStatusCode> = [.accrued, .underReview, .approved, .batched]
    var owedFen: Int64 { rows.filter { Self.owed.contains($0.status) }.reduce(0) { $0 + $1.amountFen } }
    var underReviewFen: Int64 { rows.filter { $0.status == .underReview }.reduce(0) { $0 + $1.amountFen } }
    var paidFen: Int64 { rows.filter { $0.status == .paid }.reduce(0) { $0 + $1.amountFen } }

    func refresh() async {
        do {
            rows = try await gateway.mySubsidies().sorted { ($0.overdue ? 1 : 0, $0.accruedAtMs) > ($1.overdue ? 1 : 0, $1.accruedAtMs) }
            error = nil
        } catch { self.error = UiError.of(error) }
    }
}

struct SubsidiesView: View {
    @StateObject var model: SubsidiesModel

    var body: some View {
        List {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            Section {
                LabeledContent(L10n.t("subsidies_owed"), value: L10n.yuan(model.owedFen))
                LabeledContent(L10n.t("subsidies_under_review"), value: L10n.yuan(model.underReviewFen))
                LabeledContent(L10n.t("subsidies_paid"), value: L10n.yuan(model.paidFen))
            }
            if model.rows.isEmpty { Text(L10n.t("subsidies_empty")) }
            ForEach(model.rows) { s in
                HStack {
                    VStack(alignment: .leading) {
                        Text(s.caseNumber)
                        Text(L10n.subsidyStatus(s.status) + (s.overdue ? " · " + L10n.t("subsidy_overdue") : "")).font(.caption)
                            .foregroundStyle(s.overdue ? .red : .secondary)
                        if !s.reason.isEmpty { Text(s.reason).font(.caption2) }
                    }
                    Spacer()
                    Text(L10n.yuan(s.amountFen))
                }
            }
        }
        .navigationTitle(L10n.t("subsidies_title"))
        .task { await model.refresh() }
        .refreshable { await model.refresh() }
    }
}
