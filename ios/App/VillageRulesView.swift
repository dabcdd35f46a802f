// A household under its village's rules (村规民约), mirroring the Android
// state VillageRulesState.kt: the legality review's status as the core words
// it, the representative meeting's vote, the commitment letter (承诺书), and,
// for village cadres, the violations with the core's reason when one carries
// no sanction. Every rule is the core's; this only loads, forwards and shows.
import SwiftUI
import FengqiaoCore

struct AdoptionRow: Equatable { let meetingDate: String; let members, present, votesFor, votesAgainst, abstentions: UInt32 }
struct CommitmentRow: Equatable { let signed: Bool; let signedOn: String?; let pending: Bool }
struct HouseholdRulesRow: Equatable {
    let householdId: String
    let suspended: Bool
    let rulesLawful: Bool
    /// The core's sentence (Chinese), shown as is.
    let rulesStatus: String
    let adoption: AdoptionRow?
    let commitment: CommitmentRow?
}
struct ViolationRow: Identifiable, Equatable {
    let id: String; let itemCode: String; let note: String
    let sanctioned: Bool; let noSanctionReason: String?; let restored: Bool; let pending: Bool
}

protocol VillageRulesGateway: Sendable {
    func householdRules(householdId: String) async throws -> HouseholdRulesRow
    /// `nil` when the user's roles do not see violations (a group leader).
    func violations(householdId: String) async throws -> [ViolationRow]?
    func recordCommitment(householdId: String, signed: Bool, signedOn: String?) async throws
}

final class CoreVillageRules: VillageRulesGateway, @unchecked Sendable {
    let client: FieldClient
    init(client: FieldClient) { self.client = client }

    func householdRules(householdId: String) async throws -> HouseholdRulesRow {
        try await offMain {
            let r = try self.client.householdRules(householdId: householdId)
            return HouseholdRulesRow(
                householdId: r.householdId, suspended: r.suspended, rulesLawful: r.rulesLawful, rulesStatus: r.rulesStatus,
                adoption: r.adoption.map { AdoptionRow(meetingDate: $0.meetingDate, members: $0.members, present: $0.present,
                                                       votesFor: $0.votesFor, votesAgainst: $0.votesAgainst, abstentions: $0.abstentions) },
                commitment: r.commitment.map { CommitmentRow(signed: $0.signed, signedOn: $0.signedOn, pending: r.commitmentPending) })
        }
    }

    func violations(householdId: String) async throws -> [ViolationRow]? {
        try await offMain {
            do {
                return try self.client.violationsFor(householdId: householdId).map { i in
                    let v = i.violation
                    return ViolationRow(id: v.id, itemCode: v.itemCode, note: v.note, sanctioned: v.noSanctionReason == nil,
                                        noSanctionReason: v.noSanctionReason, restored: v.restoration != nil, pending: i.pending)
                }
            } catch let FengqiaoError.Rejected(_, reason, _) where reason == "role_not_allowed" {
                return nil
            }
        }
    }

    func recordCommitment(householdId: String, signed: Bool, signedOn: String?) async throws {
        _ = try await offMain { try self.client.recordCommitment(householdId: householdId, signed: signed, signedOn: signedOn) }
    }
}

@MainActor
final class HouseholdRulesModel: ObservableObject {
    @Published private(set) var rules: HouseholdRulesRow?
    @Published private(set) var violations: [ViolationRow]?
    @Published private(set) var saving = false
    @Published private(set) var error: UiError?
    private let gateway: VillageRulesGateway
    let householdId: String
    init(gateway: VillageRulesGateway, householdId: String) { self.gateway = gateway; self.householdId = householdId }

    func load() async {
        do {
            rules = try await gateway.householdRules(householdId: householdId)
            violations = try await gateway.violations(householdId: householdId)
            error = nil
        } catch { self.error = UiError.of(error) }
    }

    func recordCommitment(signed: Bool, signedOn: String?) async {
        saving = true
        defer { saving = false }
        do {
            try await gateway.recordCommitment(householdId: householdId, signed: signed, signedOn: signedOn)
            await load()
        } catch { self.error = UiError.of(error) }
    }
}

struct HouseholdRulesView: View {
    @StateObject var model: HouseholdRulesModel

    var body: some View {
        List {
            if let e = model.error { Text(L10n.error(e)).foregroundStyle(.red) }
            if let r = model.rules {
                Section(L10n.t("village_rules_title")) {
                    Text(r.rulesStatus).foregroundStyle(r.rulesLawful ? Color.primary : Color.orange)
                    if let a = r.adoption {
                        Text(L10n.f("village_rules_adoption", a.meetingDate, Int(a.present), Int(a.members), Int(a.votesFor), Int(a.votesAgainst), Int(a.abstentions)))
                    }
                    if r.suspended { Text(L10n.t("village_rules_suspended")).foregroundStyle(.red) }
                }
                Section(L10n.t("village_rules_commitment")) {
                    if let c = r.commitment {
                        Text(c.signed ? L10n.f("village_rules_signed_on", c.signedOn ?? "") : L10n.t("village_rules_not_signed"))
                        if c.pending { Text(L10n.t("pending_sync")).font(.caption) }
                    } else {
                        Text(L10n.t("village_rules_no_letter"))
                    }
                }
            }
            if let vs = model.violations {
                Section(L10n.t("village_rules_violations")) {
                    ForEach(vs) { v in
                        VStack(alignment: .leading) {
                            Text(v.itemCode)
                            Text(v.note).font(.caption)
                            if let why = v.noSanctionReason { Text(why).font(.caption2).foregroundStyle(.orange) }
                        }
                    }
                }
            }
        }
        .navigationTitle(L10n.t("village_rules_title"))
        .task { await model.load() }
        .refreshable { await model.load() }
    }
}
