// The app: registers the background sync tasks at launch (BGTaskScheduler
// requires it before launch finishes), schedules them when the app goes to
// the background, and shows login or the tabs.
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
            if phase == .background { BackgroundSync.schedule() }
        }
    }
}

struct RootView: View {
    @EnvironmentObject var env: AppEnvironment

    var body: some View {
        if env.signedIn {
            TabView {
                NavigationStack { VisitListView(model: VisitListModel(gateway: env.core)) }
                    .tabItem { Label(L10n.t("nav_visits"), systemImage: "house") }
                NavigationStack { DisputeListView(model: DisputeListModel(gateway: env.ladder)) }
                    .tabItem { Label(L10n.t("nav_disputes"), systemImage: "scale.3d") }
                NavigationStack { InboxView(model: InboxModel(gateway: env.ladder)) }
                    .tabItem { Label(L10n.t("nav_inbox"), systemImage: "tray") }
                NavigationStack { SubsidiesView(model: SubsidiesModel(gateway: env.ladder)) }
                    .tabItem { Label(L10n.t("nav_subsidies"), systemImage: "yensign.circle") }
                NavigationStack { SyncView(model: SyncModel(gateway: env.core)) }
                    .tabItem { Label(L10n.t("nav_sync"), systemImage: "arrow.triangle.2.circlepath") }
            }
        } else {
            LoginView(model: LoginModel(gateway: env.core)) { env.signedIn = true }
        }
    }
}
