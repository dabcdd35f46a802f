// The Application: one FieldClient for the whole process (the core allows one
// open client per data dir), the gateways the screens' state uses, and the
// background sync schedule.
package org.fengqiao.app

import android.app.Application
import java.io.File
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.sync.SyncNotifications
import org.fengqiao.app.sync.SyncScheduler
import org.fengqiao.core.ClientConfig
import org.fengqiao.core.FieldClient

/** What the screens and the worker share: the client and the gateways over it. */
class AppContainer(private val dataDir: File, private val serverUrl: String) {
    /** Opened on first use, off the main thread (the screens' first call runs on Dispatchers.IO). */
    val client: FieldClient by lazy { FieldClient(dataDir.path, serverUrl, ClientConfig()) }
    val core: CoreGateways by lazy { CoreGateways(client) }
    val ladder: LadderGateways by lazy { LadderGateways(client) }
}

class FengqiaoApp : Application() {
    lateinit var container: AppContainer
        private set

    override fun onCreate() {
        super.onCreate()
        // The core keeps its sled store and photo folder here (app-private, excluded from backup).
        container = AppContainer(File(filesDir, "core").apply { mkdirs() }, BuildConfig.SERVER_URL)
        SyncNotifications.createChannel(this)
        SyncScheduler.schedulePeriodic(this)
        SyncScheduler.syncWhenOnline(this)
    }
}
