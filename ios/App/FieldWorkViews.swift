// The field work's SwiftUI views, thin over FieldWorkModels.swift (mirrors of
// the Android app's state classes, which the JVM suite tests): the households
// tab (search with standing, and the way to report a dispute, the screening
// and consultations), a household's negative list, the report form, the case
// screen with a returned file's missing papers. Not compiled here.
import SwiftUI
import FengqiaoCore

struct HouseholdsView: View {
    @StateObject var model: HouseholdSearchModel
    let field: FieldGateway

    var body: some View {
        List {
            Section {
                NavigationLink(L10n.t("nav_report")) { ReportView(model: ReportModel(gateway: field)) }
                NavigationLink(L10n.t("nav_screening")) { ScreeningView(model: ScreeningModel(gateway: field)) }
                NavigationLink(L10n.t("nav_consultations")) { ConsultationsView(model: ConsultationModel(gateway: field)) }
            }
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            ForEach(model.results, id: \.household.id) { m in
                NavigationLink {
                    HouseholdPreventView(model: HouseholdPreventModel(gateway: field, householdId: m.household.id))
                } label: {
                    HStack {
                        VStack(alignment: .leading) { Text(m.household.headName); Text(m.household.address).font(.caption) }
                        Spacer()
                        if m.suspended { Text(L10n.t("household_suspended")).foregroundStyle(.red).font(.caption) }
                    }
                }
            }
        }
        .searchable(text: Binding(get: { model.query }, set: { q in Task { await model.setQuery(q) } }), prompt: L10n.t("search_households"))
        .navigationTitle(L10n.t("nav_households"))
        .task { await model.setQuery("") }
    }
}

struct HouseholdPreventView: View {
    @StateObject var model: HouseholdPreventModel

    var body: some View {
        Form {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            Picker(L10n.t("prevent_record"), selection: $model.itemCode) {
                ForEach(model.items, id: \.code) { Text($0.labelZh).tag(Optional($0.code)) }
            }
            if let days = model.correctionDays { Text(String(format: L10n.t("prevent_correction_days"), Int(days))) }
            TextField(L10n.t("case_text"), text: $model.note)
            Button(L10n.t("prevent_record")) { Task { _ = await model.record() } }.disabled(model.itemCode == nil)
            ForEach(model.violations ?? [], id: \.violation.id) { v in
                HStack {
                    Text(v.violation.itemCode)
                    Spacer()
                    if v.violation.restoration == nil { Button(L10n.t("prevent_restore")) { Task { _ = await model.restore(violationId: v.violation.id, note: "") } } }
                }
            }
        }
        .task { await model.load() }
    }
}

struct ReportView: View {
    @StateObject var model: ReportModel
    /// The visit and lead the report starts from (the core fills the form from it).
    var fromLead: (visit: String, lead: String)? = nil
    @State private var party = ""

    var body: some View {
        Form {
            if let w = model.stockWarning { Text(w).foregroundStyle(.red) }
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if let d = model.reported {
                Text(String(format: L10n.t("report_case_number"), d.caseNumber)).font(.headline)
                NavigationLink(L10n.t("report_open_case")) { CaseWorkView(model: CaseWorkModel(gateway: CoreField(client: AppEnvironment.shared.client), disputeId: d.id)) }
            } else {
                Picker(L10n.t("report_title"), selection: $model.kind) {
                    ForEach(model.kinds, id: \.code) { Text($0.labelZh).tag(Optional($0.code)) }
                }
                TextField(L10n.t("report_summary"), text: $model.summary)
                ForEach(model.parties, id: \.name) { Text($0.name) }
                HStack {
                    TextField(L10n.t("report_party"), text: $party)
                    Button("+") { model.parties.append(Party(name: party, householdId: nil, phone: nil)); party = "" }
                }
                TextField(L10n.t("report_cause"), text: $model.cause)
                TextField(L10n.t("report_consequences"), text: $model.consequences)
                ForEach(model.photos.indices, id: \.self) { i in TextField(L10n.t("photo_caption"), text: $model.photos[i].caption) }
                Button(L10n.t("report_submit")) { Task { await model.report() } }
            }
        }
        .task {
            await model.load()
            if let l = fromLead { await model.startFromLead(visitId: l.visit, leadId: l.lead) }
        }
    }
}

struct CaseWorkView: View {
    @StateObject var model: CaseWorkModel
    @State private var text = ""

    var body: some View {
        Form {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            ForEach(model.returnedReasons, id: \.self) { Text($0).foregroundStyle(.red) }
            ForEach(model.missing, id: \.code) { Text(String(format: L10n.t("case_missing"), $0.label)) }
            if model.readyForReview { Text(L10n.t("case_ready_for_review")) }
            TextField(L10n.t("case_text"), text: $text)
            if model.actions?.record == true {
                Button(L10n.t("case_session")) { Task { _ = await model.recordSession(record: text, agreed: false, place: "") } }
                Button(L10n.t("case_agreement")) { Task { _ = await model.recordAgreement(terms: text, sumFen: 0, obligations: "", signatures: []) } }
            }
            if model.actions?.followUp == true {
                Button(L10n.t("case_follow_up")) { Task { _ = await model.recordFollowUp(fulfilled: true, satisfaction: .satisfied, note: text) } }
            }
            if model.actions?.close == true {
                Button(L10n.t("case_close_resolved")) { Task { _ = await model.close(outcome: .resolved, note: text) } }
            }
        }
        .task { await model.load() }
    }
}

struct ScreeningView: View {
    @StateObject var model: ScreeningModel

    var body: some View {
        Form {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if let due = model.due {
                Text(String(format: L10n.t("screening_due"), due.villageName, due.period, due.dueOn))
                ForEach(model.focusAreas, id: \.code) { a in
                    Toggle(a.labelZh, isOn: Binding(get: { model.chosenAreas.contains(a.code) },
                                                    set: { on in if on { model.chosenAreas.insert(a.code) } else { model.chosenAreas.remove(a.code) } }))
                }
                Button(L10n.t("screening_file")) { Task { _ = await model.file() } }
            } else {
                Text(L10n.t("screening_none_due"))
            }
        }
        .task { await model.load() }
    }
}

struct ConsultationsView: View {
    @StateObject var model: ConsultationModel

    var body: some View {
        Form {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            TextField(L10n.t("consult_question"), text: $model.question)
            TextField(L10n.t("consult_answer"), text: $model.answer)
            Picker("", selection: $model.outcome) {
                Text("已解决").tag(Optional(ConsultationOutcome.solved))
                Text("已引导").tag(Optional(ConsultationOutcome.referred))
                Text("未解决").tag(Optional(ConsultationOutcome.notSolved))
            }
            Picker("", selection: $model.satisfaction) {
                Text("满意").tag(Optional(Satisfaction.satisfied))
                Text("基本满意").tag(Optional(Satisfaction.neutral))
                Text("不满意").tag(Optional(Satisfaction.dissatisfied))
            }
            Button(L10n.t("consult_record")) { Task { _ = await model.record() } }
            ForEach(model.mine, id: \.consultation.id) { Text($0.consultation.question) }
        }
        .task { await model.load() }
    }
}
