// My subsidies (我的案件补贴): owed, held for review, paid; then each case.
import SwiftUI

@MainActor
final class SubsidiesModel: ObservableObject {
    @Published private(set) var mine = MySubsidiesView()
    @Published private(set) var error: UiError?
    private let gateway: LadderGateway
    init(gateway: LadderGateway) { self.gateway = gateway }

    // shown as the core gives them: its order (overdue first, then newest), its sums
    var rows: [SubsidyRow] { mine.rows }
    var owedFen: Int64 { mine.owedFen }
    var underReviewFen: Int64 { mine.underReviewFen }
    var paidFen: Int64 { mine.paidFen }

    func refresh() async {
        do {
            mine = try await gateway.mySubsidies()
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
