// The app: registers the background sync tasks at launch (BGTaskScheduler
// requires it before launch finishes), schedules them when the app goes to
// the background, locks the user's data then, and shows login or the tabs,
// with the lock view over them while locked.
import SwiftUI

@main
struct FengqiaoApp: App {
    @Environment(\.scenePhase) private var scenePhase
    @StateObject private var env = AppEnvironment.shared

    init() {
        BackgroundSync.register()
    }

    var body: some Scene {
        WindowGroup {
            RootView().environmentObject(env)
        }
        .onChange(of: scenePhase) { phase in
            switch phase {
            case .background:
                // Close the user's data until the PIN or biometrics open it (no-op without a PIN).
                env.lock.lockNow()
                BackgroundSync.schedule()
            case .active:
                Task { await env.lock.refresh() }
            default:
                break
            }
        }
    }
}

struct RootView: View {
    @EnvironmentObject var env: AppEnvironment
    /// The tabs' badges: the core's counts (mirror of the Android tab bar).
    @StateObject private var notices = NotificationsModel(gateway: CoreNotifications(client: AppEnvironment.shared.client))

    var body: some View {
        LockGate(lock: env.lock) { content }
    }

    @ViewBuilder private var content: some View {
        if env.signedIn {
            TabView {
                NavigationStack { VisitListView(model: VisitListModel(gateway: env.core)) }
                    .tabItem { Label(L10n.t("nav_visits"), systemImage: "house") }
                NavigationStack { DisputeListView(model: DisputeListModel(gateway: env.ladder)) }
                    .tabItem { Label(L10n.t("nav_disputes"), systemImage: "scale.3d") }
                    .badge(Int(notices.counts?.myDisputes ?? 0))
                NavigationStack { HouseholdsView(model: HouseholdSearchModel(gateway: env.field), field: env.field) }
                    .tabItem { Label(L10n.t("nav_households"), systemImage: "person.3") }
                NavigationStack { InboxView(model: InboxModel(gateway: env.ladder, approvals: CoreApprovals(client: env.client))) }
                    .tabItem { Label(L10n.t("nav_inbox"), systemImage: "tray") }
                    .badge(Int(notices.counts?.inbox ?? 0))
                NavigationStack { SubsidiesView(model: SubsidiesModel(gateway: env.ladder)) }
                    .tabItem { Label(L10n.t("nav_subsidies"), systemImage: "yensign.circle") }
                    .badge(Int(notices.counts?.subsidies ?? 0))
                NavigationStack { SyncView(model: SyncModel(gateway: env.core)) }
                    .tabItem { Label(L10n.t("nav_sync"), systemImage: "arrow.triangle.2.circlepath") }
                    .badge(Int(notices.indicator?.quarantined ?? 0))
            }
            .task { await notices.load() }
        } else {
            LoginView(model: LoginModel(gateway: env.core)) { env.signedIn = true }
        }
    }
}

/// Shows the lock view instead of the app while the user's data is locked.
struct LockGate<Content: View>: View {
    @ObservedObject var lock: LockModel
    @ViewBuilder let content: () -> Content

    var body: some View {
        Group {
            if lock.locked {
                LockView(model: lock)
            } else {
                content()
            }
        }
        .task { await lock.refresh() }
    }
}
