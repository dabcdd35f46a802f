// The one FieldClient of the app (one open client per data dir, opened with
// the store key from the Keychain), the gateways and the lock over it, and
// the localization helpers the views share.
import Foundation
import FengqiaoCore

@MainActor
final class AppEnvironment: ObservableObject {
    static let shared = AppEnvironment()

    let client: FieldClient
    let core: CoreGateways
    let ladder: CoreLadder
    let field: CoreField
    let lock: LockModel
    @Published var signedIn: Bool

    private init() {
        // Application Support/core: the sled store and the photo folder; excluded from iCloud backup.
        let fm = FileManager.default
        var dir = fm.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0].appendingPathComponent("core", isDirectory: true)
        try? fm.createDirectory(at: dir, withIntermediateDirectories: true)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try? dir.setResourceValues(values)
        let server = (Bundle.main.object(forInfoDictionaryKey: "FengqiaoServerURL") as? String) ?? "https://fengqiao.example.gov.cn"
        do {
            // Everything the core keeps is encrypted under the Keychain's store key.
            client = try FieldClient(dataDir: dir.path, serverUrl: server, storeKey: try StoreKey.load(), config: AppEnvironment.trustConfig())
        } catch {
            // The key or the store could not open (Keychain unavailable, disk full, corrupt): nothing works without it.
            fatalError("the phone core could not open its store: \(UiError.of(error).code)")
        }
        // the core's messages in the phone's language: Chinese unless the phone is set to English
        client.setLocale(locale: Locale.current.language.languageCode?.identifier == "en" ? .en : .zhCn)
        core = CoreGateways(client: client)
        ladder = CoreLadder(client: client)
        field = CoreField(client: client)
        lock = LockModel(gateway: core)
        signedIn = client.currentUser() != nil
    }
}

extension AppEnvironment {
    /// How the core trusts the county's server (ADR 0033): the key pins of Info.plist
    /// `FengqiaoServerPins` (`sha256/<base64>` strings) and the county's own CA when the
    /// bundle ships `county-ca.pem`. The core does the checking.
    static func trustConfig() -> ClientConfig {
        let pins = (Bundle.main.object(forInfoDictionaryKey: "FengqiaoServerPins") as? [String]) ?? []
        let ca = Bundle.main.url(forResource: "county-ca", withExtension: "pem").flatMap { try? String(contentsOf: $0, encoding: .utf8) }
        return ClientConfig(serverCaPem: ca, serverPins: pins.isEmpty ? nil : pins)
    }
}

enum L10n {
    static func t(_ key: String) -> String { NSLocalizedString(key, comment: "") }
    static func f(_ key: String, _ args: CVarArg...) -> String { String(format: t(key), arguments: args) }

    private static let known: Set<String> = [
        "network", "invalid_credentials", "session_expired", "not_logged_in", "rejected", "invalid_input", "storage_full",
        "storage", "server", "rate_limited", "protocol", "not_found", "cancelled", "internal", "missing_credentials",
        "household_required", "lead_required", "level_required", "reason_required", "note_required", "comment_required", "busy",
        "wrong_store_key", "locked", "wrong_pin", "device_revoked", "unsynced_work", "storage_low", "biometric_failed",
    ]

    /// The core's own message (already in the user's language, naming the rule); the
    /// app's string only for the screens' own checks, whose message is their code.
    static func error(_ e: UiError) -> String {
        if !e.message.isEmpty && e.message != e.code { return e.message }
        return known.contains(e.code) ? t("error_" + e.code) : t("error_internal")
    }

    static func level(_ l: LadderLevel) -> String {
        switch l { case .group: t("level_group"); case .village: t("level_village"); case .judicialOffice: t("level_judicial_office"); case .town: t("level_town") }
    }
    static func grade(_ g: DisputeGrade) -> String {
        switch g { case .general: t("grade_general"); case .larger: t("grade_larger"); case .major: t("grade_major") }
    }
    static func deadline(_ d: DeadlineStatus) -> String {
        switch d { case .ok: t("deadline_ok"); case .approaching: t("deadline_approaching"); case .overdue: t("deadline_overdue") }
    }
    static func reason(_ r: EscalationReasonCode) -> String {
        switch r {
        case .repeatedMediationFailed: t("reason_repeated_mediation_failed"); case .outsideLevelScope: t("reason_outside_level_scope")
        case .partiesAgitated: t("reason_parties_agitated"); case .largeSums: t("reason_large_sums")
        case .majorGrade: t("reason_major_grade"); case .other: t("reason_other")
        }
    }
    static func visitKind(_ k: VisitKind) -> String {
        switch k { case .routine: t("visit_kind_routine"); case .legalPublicity: t("visit_kind_legal_publicity"); case .followUp: t("visit_kind_follow_up"); case .leadFound: t("visit_kind_lead_found") }
    }
    static func socialBodyKind(_ k: SocialBodyKind) -> String {
        switch k { case .cooperative: t("visit_body_cooperative"); case .school: t("visit_body_school"); case .field: t("visit_body_field"); case .community: t("visit_body_community"); case .other: t("visit_body_other") }
    }
    static func subsidyStatus(_ s: SubsidyStatusCode) -> String {
        switch s {
        case .accrued: t("subsidy_status_accrued"); case .underReview: t("subsidy_status_under_review"); case .approved: t("subsidy_status_approved")
        case .batched: t("subsidy_status_batched"); case .paid: t("subsidy_status_paid"); case .rejected: t("subsidy_status_rejected")
        }
    }
    /// A flow-table kind from its Swift case name (`escalationRequested` → key `flow_kind_escalation_requested`).
    static func flowKind(_ caseName: String) -> String {
        let snake = caseName.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        let key = "flow_kind_" + snake
        let text = t(key)
        return text == key ? caseName : text
    }
    static func yuan(_ fen: Int64) -> String {
        let f = NumberFormatter()
        f.numberStyle = .currency
        f.currencyCode = "CNY"
        f.locale = Locale(identifier: "zh_CN")
        return f.string(from: NSNumber(value: Double(fen) / 100)) ?? "¥\(fen / 100).\(String(format: "%02d", abs(fen % 100)))"
    }
    /// A time as the county reads it: formatted by the core in the county's zone, never the phone's.
    @MainActor static func time(_ ms: Int64) -> String { AppEnvironment.shared.client.formatTime(atMs: ms) }
    /// A day as the county reads it (the core, in the county's zone).
    @MainActor static func date(_ ms: Int64) -> String { AppEnvironment.shared.client.formatDate(atMs: ms) }
}
