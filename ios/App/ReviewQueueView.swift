// The judicial office's case-file review (mirror of ReviewScreen.kt): the
// core's queue with the missing papers in words; the form opened on a case:
// pass (offered only when nothing is missing) or return with reasons, one a
// line. The core refuses what the server would; its typed error is shown.
import SwiftUI
import FengqiaoCore

struct CaseReviewQueueView: View {
    @StateObject var model: ReviewModel

    var body: some View {
        List {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if model.queue.isEmpty { Text(L10n.t("review_empty")) }
            ForEach(model.queue, id: \.dispute.dispute.id) { item in
                let d = item.dispute.dispute
                VStack(alignment: .leading, spacing: 6) {
                    Text(d.caseNumber).font(.caption)
                    Text(d.summary).lineLimit(2)
                    if !item.missing.isEmpty {
                        Text(L10n.f("review_missing", item.missing.joined(separator: "、"))).foregroundStyle(.red)
                    }
                    if let last = item.lastReview { Text(last.reasons.joined(separator: "；")).font(.caption) }
                    if let form = model.form, form.disputeId == d.id {
                        Picker(L10n.t("review_title"), selection: Binding(
                            get: { model.form?.passed ?? false },
                            set: { model.form?.passed = $0 }
                        )) {
                            if item.missing.isEmpty { Text(L10n.t("review_pass")).tag(true) }
                            Text(L10n.t("review_return")).tag(false)
                        }
                        .pickerStyle(.segmented)
                        Stepper(L10n.f("review_score_value", form.score), value: Binding(
                            get: { model.form?.score ?? 85 },
                            set: { model.form?.score = $0 }
                        ), in: 0...100)
                        Picker(L10n.t("review_correct"), selection: Binding(
                            get: { model.form?.grade },
                            set: { model.form?.grade = $0 }
                        )) {
                            Text(L10n.t("review_keep")).tag(Grade?.none)
                            Text(gradeLabelZh(grade: .general)).tag(Optional(Grade.general))
                            Text(gradeLabelZh(grade: .larger)).tag(Optional(Grade.larger))
                            Text(gradeLabelZh(grade: .major)).tag(Optional(Grade.major))
                        }
                        Picker(L10n.t("review_correct"), selection: Binding(
                            get: { model.form?.difficulty },
                            set: { model.form?.difficulty = $0 }
                        )) {
                            Text(L10n.t("review_keep")).tag(Difficulty?.none)
                            Text("低").tag(Optional(Difficulty.low))
                            Text("中").tag(Optional(Difficulty.medium))
                            Text("高").tag(Optional(Difficulty.high))
                        }
                        if form.grade != nil || form.difficulty != nil {
                            TextField(L10n.t("review_correction_reason"), text: Binding(
                                get: { model.form?.correctionReason ?? "" },
                                set: { model.form?.correctionReason = $0 }
                            ))
                        }
                        if !form.passed {
                            TextField(L10n.t("review_reasons"), text: Binding(
                                get: { model.form?.reasons ?? "" },
                                set: { model.form?.reasons = $0 }
                            ), axis: .vertical)
                        }
                        HStack {
                            Button(L10n.t("review_submit")) { Task { _ = await model.submit() } }.disabled(model.busy)
                            Button(L10n.t("cancel")) { model.form = nil }
                        }
                    } else {
                        Button(L10n.t("review_open")) { model.open(d.id) }
                    }
                }
            }
        }
        .navigationTitle(L10n.t("review_title"))
        .task { await model.refresh() }
        .refreshable { await model.refresh() }
    }
}
