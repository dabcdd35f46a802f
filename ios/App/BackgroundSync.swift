// Background sync with BackgroundTasks: a BGAppRefreshTask (short, frequent:
// push the queue, pull changes) and a BGProcessingTask that needs the network
// (long: photo uploads). Both call the core's `sync`; the task's expiration
// cancels it (the core stops at a safe point, queued work intact). Identifiers
// are listed in Info.plist under BGTaskSchedulerPermittedIdentifiers.
import BackgroundTasks
import Foundation

enum BackgroundSync {
    static let refreshId = "org.fengqiao.app.sync.refresh"
    static let processingId = "org.fengqiao.app.sync.processing"

    /// Call once, before the app finishes launching.
    static func register() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: refreshId, using: nil) { task in
            schedule() // keep the chain going
            run(task)
        }
        BGTaskScheduler.shared.register(forTaskWithIdentifier: processingId, using: nil) { task in
            run(task)
        }
    }

    /// Asks iOS for the next runs (it decides when; at least 15 minutes apart).
    static func schedule() {
        let refresh = BGAppRefreshTaskRequest(identifier: refreshId)
        refresh.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(refresh)

        let processing = BGProcessingTaskRequest(identifier: processingId)
        processing.requiresNetworkConnectivity = true
        processing.requiresExternalPower = false
        try? BGTaskScheduler.shared.submit(processing)
    }

    private static func run(_ task: BGTask) {
        let work = Task { @MainActor in
            let env = AppEnvironment.shared
            guard env.core.currentUser() != nil else { task.setTaskCompleted(success: true); return }
            // A PIN-locked phone still sends its queued work and fetches changes
            // (nothing is shown; the user's data stays closed to whoever holds it).
            let locked = (try? await env.core.lockStatus().locked) ?? false
            if locked {
                let sent = (try? await env.core.sync(onProgress: { _, _, _ in })) != nil
                task.setTaskCompleted(success: sent)
                return
            }
            let model = SyncModel(gateway: env.core)
            await model.syncNow()
            // Being told: raise each notice the core worked out, once, then acknowledge it.
            _ = await NotificationsModel(gateway: CoreNotifications(client: env.client)).deliver(NotificationsModel.raise)
            // Transient failures: iOS runs us again later; the queue is intact either way.
            task.setTaskCompleted(success: model.error == nil)
        }
        task.expirationHandler = { work.cancel() }
    }
}
