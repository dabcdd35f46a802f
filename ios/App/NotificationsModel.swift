// Being told (mirror of NotificationsState.kt): the notices the core works out
// after every sync (once each, even across restarts), the tab counts and the
// global indicator. After the background task's sync, each pending notice is
// raised through UNUserNotificationCenter under its core key (a second raise
// after a crash replaces it) and acknowledged. No rule here: what is new, its
// words and the counts are the core's.
import Foundation
import UserNotifications

/// The core's notices, counts and indicator.
protocol NotificationsGateway: Sendable {
    func refresh() async throws -> [Notice]
    func pending() async throws -> [Notice]
    func acknowledge(keys: [String]) async throws
    func counts() async throws -> TabCounts
    func indicator() async throws -> Indicator
}

/// [NotificationsGateway] over the real core, off the main thread.
final class CoreNotifications: NotificationsGateway, @unchecked Sendable {
    let client: FieldClient
    init(client: FieldClient) { self.client = client }
    func refresh() async throws -> [Notice] { try await offMain { try self.client.refreshNotices() } }
    func pending() async throws -> [Notice] { try await offMain { try self.client.pendingNotices() } }
    func acknowledge(keys: [String]) async throws { _ = try await offMain { try self.client.acknowledgeNotices(keys: keys) } }
    func counts() async throws -> TabCounts { try await offMain { try self.client.tabCounts() } }
    func indicator() async throws -> Indicator { try await offMain { try self.client.indicator() } }
}

@MainActor
final class NotificationsModel: ObservableObject {
    @Published private(set) var pending: [Notice] = []
    @Published private(set) var counts: TabCounts?
    @Published private(set) var indicator: Indicator?
    @Published private(set) var error: UiError?
    private let gateway: NotificationsGateway
    init(gateway: NotificationsGateway) { self.gateway = gateway }

    func load() async {
        do {
            pending = try await gateway.pending()
            counts = try await gateway.counts()
            indicator = try await gateway.indicator()
            error = nil
        } catch { self.error = UiError.of(error) }
    }

    /// Works out what is new now (deadlines pass offline too), then reloads.
    func refresh() async {
        do { _ = try await gateway.refresh() } catch { self.error = UiError.of(error); return }
        await load()
    }

    /// Raises each pending notice (false: could not be shown) and acknowledges those raised.
    func deliver(_ raise: (Notice) async -> Bool) async -> Int {
        guard let list = try? await gateway.pending() else { return 0 }
        var raised: [String] = []
        for n in list where await raise(n) { raised.append(n.key) }
        if !raised.isEmpty {
            do { try await gateway.acknowledge(keys: raised) } catch { self.error = UiError.of(error) }
        }
        await load()
        return raised.count
    }

    /// The user opened a notice in the app.
    func open(_ key: String) async {
        do { try await gateway.acknowledge(keys: [key]); await load() } catch { self.error = UiError.of(error) }
    }

    /// A notice as a local notification, its core key as the identifier.
    static func raise(_ n: Notice) async -> Bool {
        let center = UNUserNotificationCenter.current()
        let settings = await center.notificationSettings()
        guard settings.authorizationStatus == .authorized || settings.authorizationStatus == .provisional else { return false }
        let content = UNMutableNotificationContent()
        content.title = n.title
        content.body = n.body
        content.threadIdentifier = "\(n.tab)"
        content.userInfo = ["notice_key": n.key, "dispute_id": n.disputeId ?? ""]
        do {
            try await center.add(UNNotificationRequest(identifier: n.key, content: content, trigger: nil))
            return true
        } catch { return false }
    }
}
