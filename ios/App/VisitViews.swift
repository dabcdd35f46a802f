// Visits (走访): the list with pending flags, the new-visit form with the
// camera, and a visit's photos with their upload state.
import SwiftUI
import FengqiaoCore

let visitKindName = "visit"

@MainActor
final class VisitListModel: ObservableObject {
    @Published private(set) var items: [VisitItem] = []
    @Published private(set) var addresses: [String: String] = [:]
    @Published private(set) var error: UiError?
    private let gateway: VisitsGateway
    init(gateway: VisitsGateway) { self.gateway = gateway }

    var pendingCount: Int { items.filter { $0.pending && !$0.quarantined }.count }

    func refresh() async {
        do {
            let homes = try await gateway.households()
            addresses = Dictionary(homes.map { ($0.id, $0.address) }, uniquingKeysWith: { a, _ in a })
            items = try await gateway.listVisits(limit: 200)
            error = nil
        } catch { self.error = UiError.of(error) }
    }
}

struct VisitListView: View {
    @StateObject var model: VisitListModel
    @EnvironmentObject var env: AppEnvironment

    var body: some View {
        List {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if model.pendingCount > 0 { Text(L10n.f("visits_pending_count", model.pendingCount)) }
            ForEach(model.items, id: \.visit.id) { item in
                NavigationLink {
                    VisitPhotosView(model: VisitPhotosModel(gateway: env.core, visitId: item.visit.id))
                } label: {
                    VStack(alignment: .leading) {
                        if let body = item.visit.body {
                            Text("\(L10n.socialBodyKind(body.kind)) · \(body.name)")
                        } else {
                            Text(model.addresses[item.visit.householdId] ?? item.visit.householdId)
                        }
                        Text("\(L10n.time(item.visit.visitedAtMs)) · \(L10n.visitKind(item.visit.kind))").font(.caption)
                        if item.quarantined { Text(L10n.t("visit_quarantined")).font(.caption).foregroundStyle(.red) }
                        else if item.pending { Text(L10n.t("visit_pending")).font(.caption).foregroundStyle(.orange) }
                    }
                }
                // each lead can be reported as a dispute, the form filled from it by the core
                ForEach(item.visit.leads, id: \.id) { lead in
                    NavigationLink {
                        ReportView(model: ReportModel(gateway: env.field), fromLead: (visit: item.visit.id, lead: lead.id))
                    } label: {
                        VStack(alignment: .leading) {
                            Text(lead.summary).font(.caption)
                            Text(L10n.t("visit_report_lead")).font(.caption).foregroundStyle(.blue)
                        }
                    }
                }
            }
        }
        .navigationTitle(L10n.t("visits_title"))
        .toolbar {
            NavigationLink(L10n.t("visit_new")) { NewVisitView(model: NewVisitModel(gateway: env.core)) }
        }
        .task { await model.refresh() }
        .refreshable { await model.refresh() }
    }
}

@MainActor
final class NewVisitModel: ObservableObject {
    @Published private(set) var households: [Household] = []
    @Published var householdId: String?
    /// Set when the visit goes to a social body (合作社、学校、田间…) instead of a household.
    @Published var bodyKind: SocialBodyKind?
    @Published var bodyName = ""
    /// The group or village where the body stands; by default the group of the user's households.
    @Published var bodyUnitId: String?
    @Published var kind: VisitKind = .routine
    @Published var notes = ""
    /// Where the visit happened, when Core Location gave a fix in time (optional: never waited for).
    @Published var location: GeoPoint?
    @Published var leadDraft = ""
    @Published private(set) var leads: [String] = []
    @Published private(set) var photos: [URL] = []
    @Published private(set) var saving = false
    @Published private(set) var error: UiError?
    @Published private(set) var saved: Visit?
    @Published private(set) var photoErrors: [UiError] = []
    private let gateway: VisitsGateway
    init(gateway: VisitsGateway) { self.gateway = gateway }

    var toBody: Bool { bodyKind != nil }

    func selectHousehold(_ id: String?) { householdId = id; bodyKind = nil; error = nil }
    func selectBody(_ kind: SocialBodyKind?) {
        bodyKind = kind
        if bodyUnitId == nil { bodyUnitId = Set(households.map { $0.groupId }).count == 1 ? households.first?.groupId : nil }
        error = nil
    }

    var allLeads: [String] { (leads + [leadDraft]).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty } }

    func load() async {
        do {
            households = try await gateway.households()
            if householdId == nil, households.count == 1 { householdId = households[0].id }
        } catch { self.error = UiError.of(error) }
    }
    func addLead() {
        let l = leadDraft.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !l.isEmpty else { return }
        leads.append(l); leadDraft = ""
    }
    func removeLead(at i: Int) { leads.remove(at: i) }
    func addPhoto(_ url: URL) { photos.append(url) }

    func validate() -> UiError? {
        if !toBody && householdId == nil { return .local("household_required") }
        if kind == .leadFound && allLeads.isEmpty { return .local("lead_required") }
        return nil
    }

    /// Saves offline (durable on return), then attaches each photo; a failed photo does not undo the visit.
    func save() async -> Visit? {
        guard !saving, saved == nil else { return saved }
        if let e = validate() { error = e; return nil }
        saving = true; error = nil
        defer { saving = false }
        do {
            // the core checks the body's name and unit, with the rule's own message
            let body = bodyKind.map { SocialBody(kind: $0, name: bodyName.trimmingCharacters(in: .whitespacesAndNewlines), unitId: bodyUnitId ?? "") }
            let v = try await gateway.recordVisit(NewVisit(householdId: toBody ? "" : householdId!, kind: kind, body: body, visitedAtMs: nil,
                                                          notes: notes.trimmingCharacters(in: .whitespacesAndNewlines),
                                                          location: location, leads: allLeads))
            var failed: [UiError] = []
            for url in photos {
                do {
                    _ = try await gateway.attachPhoto(NewPhoto(targetKind: visitKindName, targetId: v.id, sourcePath: url.path,
                                                               contentType: "image/jpeg", caption: ""))
                    try? FileManager.default.removeItem(at: url) // the core keeps its own copy
                } catch { failed.append(UiError.of(error)) }
            }
            photoErrors = failed
            saved = v
            return v
        } catch {
            self.error = UiError.of(error)
            return nil
        }
    }
}

struct NewVisitView: View {
    @StateObject var model: NewVisitModel
    @State private var showCamera = false
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        Form {
            Picker(L10n.t("visit_target_body"), selection: Binding(get: { model.bodyKind }, set: { model.selectBody($0) })) {
                Text(L10n.t("visit_household")).tag(SocialBodyKind?.none)
                ForEach([SocialBodyKind.cooperative, .school, .field, .community, .other], id: \.self) { k in
                    Text(L10n.socialBodyKind(k)).tag(Optional(k))
                }
            }
            if model.toBody {
                TextField(L10n.t("visit_body_name"), text: $model.bodyName)
            } else {
                Picker(L10n.t("visit_household"), selection: Binding(get: { model.householdId }, set: { model.selectHousehold($0) })) {
                    Text(L10n.t("visit_choose_household")).tag(String?.none)
                    ForEach(model.households, id: \.id) { h in Text("\(h.address) \(h.headName)").tag(Optional(h.id)) }
                }
            }
            Picker(L10n.t("visit_kind"), selection: $model.kind) {
                ForEach([VisitKind.routine, .legalPublicity, .followUp, .leadFound], id: \.self) { k in Text(L10n.visitKind(k)).tag(k) }
            }
            Section(L10n.t("visit_notes")) { TextEditor(text: $model.notes).frame(minHeight: 80) }
            Section(L10n.t("visit_lead")) {
                ForEach(Array(model.leads.enumerated()), id: \.offset) { i, lead in
                    HStack { Text(lead); Spacer(); Button("✕") { model.removeLead(at: i) } }
                }
                HStack {
                    TextField(L10n.t("visit_lead"), text: $model.leadDraft)
                    Button(L10n.t("visit_add_lead")) { model.addLead() }
                }
            }
            Section {
                Button(L10n.t("visit_take_photo")) { showCamera = true }
                    .disabled(!UIImagePickerController.isSourceTypeAvailable(.camera))
                if !model.photos.isEmpty { Text(L10n.f("visit_photos_taken", model.photos.count)) }
            }
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if !model.photoErrors.isEmpty { Text(L10n.f("visit_photos_not_attached", model.photoErrors.count)).foregroundStyle(.red) }
            Button(L10n.t("save")) {
                Task { if await model.save() != nil { BackgroundSync.schedule(); dismiss() } }
            }
            .disabled(model.saving || model.saved != nil)
        }
        .navigationTitle(L10n.t("visit_new"))
        .task { await model.load() }
        .sheet(isPresented: $showCamera) { CameraPicker { url in model.addPhoto(url) } }
    }
}

@MainActor
final class VisitPhotosModel: ObservableObject {
    @Published private(set) var photos: [AttachedPhoto] = []
    @Published private(set) var error: UiError?
    let visitId: String
    private let gateway: VisitsGateway
    init(gateway: VisitsGateway, visitId: String) { self.gateway = gateway; self.visitId = visitId }

    func refresh() async {
        do { photos = try await gateway.photosFor(targetKind: visitKindName, targetId: visitId); error = nil }
        catch { self.error = UiError.of(error) }
    }
    func attach(_ url: URL) async {
        do {
            _ = try await gateway.attachPhoto(NewPhoto(targetKind: visitKindName, targetId: visitId, sourcePath: url.path, contentType: "image/jpeg", caption: ""))
            try? FileManager.default.removeItem(at: url)
            await refresh()
        } catch { self.error = UiError.of(error) }
    }
    /// A thumbnail from the core's decrypted bytes (the file on disk is encrypted); nil if the original is gone.
    func thumbnail(_ sha: String) async -> UIImage? {
        guard let data = try? await gateway.photoBytes(sha256: sha) else { return nil }
        return await Task.detached(priority: .utility) {
            UIImage(data: data)?.preparingThumbnail(of: CGSize(width: 120, height: 120))
        }.value
    }

    static func stateText(_ s: PhotoStatus?) -> String {
        guard let s else { return L10n.t("upload_not_queued") }
        switch s.state {
        case .pending: return L10n.t("upload_waiting")
        case let .uploading(done, total): return L10n.f("upload_uploading", total == 0 ? 0 : Int(done * 100 / total))
        case .done: return L10n.t("upload_done")
        case let .failed(_, _, permanent): return L10n.t(permanent ? "upload_failed" : "upload_failed_retry")
        }
    }
}

struct VisitPhotosView: View {
    @StateObject var model: VisitPhotosModel
    @State private var showCamera = false

    var body: some View {
        List {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            ForEach(model.photos, id: \.attachment.id) { p in
                HStack {
                    if p.status?.localFile == true {
                        PhotoThumbnail(sha256: p.attachment.sha256, model: model)
                    }
                    VStack(alignment: .leading) {
                        if !p.attachment.caption.isEmpty { Text(p.attachment.caption) }
                        Text(VisitPhotosModel.stateText(p.status)).font(.caption)
                        if case let .uploading(done, total)? = p.status?.state, total > 0 {
                            ProgressView(value: Double(done), total: Double(total))
                        }
                        if p.pending { Text(L10n.t("photo_record_pending")).font(.caption2) }
                    }
                }
            }
        }
        .navigationTitle(L10n.t("photos_title"))
        .toolbar { Button(L10n.t("visit_take_photo")) { showCamera = true } }
        .sheet(isPresented: $showCamera) { CameraPicker { url in Task { await model.attach(url) } } }
        .task { await model.refresh() }
        .refreshable { await model.refresh() }
    }
}

/// A photo's thumbnail, loaded once from the core's decrypted bytes.
struct PhotoThumbnail: View {
    let sha256: String
    let model: VisitPhotosModel
    @State private var image: UIImage?

    var body: some View {
        Group {
            if let image {
                Image(uiImage: image).resizable().scaledToFill()
            } else {
                Color.secondary.opacity(0.1)
            }
        }
        .frame(width: 60, height: 60).clipped()
        .task(id: sha256) { image = await model.thumbnail(sha256) }
    }
}

/// The system camera; writes the JPEG into a temporary file and hands its URL over.
struct CameraPicker: UIViewControllerRepresentable {
    let onCapture: (URL) -> Void
    @Environment(\.dismiss) private var dismiss

    func makeUIViewController(context: Context) -> UIImagePickerController {
        let picker = UIImagePickerController()
        picker.sourceType = .camera
        picker.delegate = context.coordinator
        return picker
    }
    func updateUIViewController(_ controller: UIImagePickerController, context: Context) {}
    func makeCoordinator() -> Coordinator { Coordinator(self) }

    final class Coordinator: NSObject, UIImagePickerControllerDelegate, UINavigationControllerDelegate {
        let parent: CameraPicker
        init(_ parent: CameraPicker) { self.parent = parent }
        func imagePickerController(_ picker: UIImagePickerController, didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any]) {
            if let image = info[.originalImage] as? UIImage, let data = image.jpegData(compressionQuality: 0.85) {
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("visit-\(UUID().uuidString).jpg")
                if (try? data.write(to: url)) != nil { parent.onCapture(url) }
            }
            parent.dismiss()
        }
        func imagePickerControllerDidCancel(_ picker: UIImagePickerController) { parent.dismiss() }
    }
}
