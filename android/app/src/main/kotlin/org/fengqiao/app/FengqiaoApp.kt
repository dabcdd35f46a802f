// The Application: one FieldClient for the whole process (the core allows one
// open client per data dir) opened with the store key from the Android
// Keystore, the gateways and the lock state the screens use, the background
// sync schedule, and the lock when the app goes to the background.
package org.fengqiao.app

import android.app.Application
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import java.io.File
import org.fengqiao.app.state.CoreFieldGateways
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.state.CountyTime
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.app.state.LockState
import org.fengqiao.app.state.messageLocaleFor
import org.fengqiao.app.sync.SyncNotifications
import org.fengqiao.app.sync.SyncScheduler
import org.fengqiao.core.ClientConfig
import org.fengqiao.core.FieldClient

/** What the screens and the worker share: the client and the gateways over it. */
class AppContainer(
    private val dataDir: File,
    private val serverUrl: String,
    private val storeKeys: StoreKeyProvider,
    private val config: ClientConfig = ClientConfig(),
) {
    private val opened = lazy {
        val key = storeKeys.storeKey()
        try {
            FieldClient(dataDir.path, serverUrl, key, config).also {
                // the core's messages in the phone's language: Chinese unless the phone is set to English
                it.setLocale(messageLocaleFor(java.util.Locale.getDefault().toLanguageTag()))
            }
        } finally {
            key.fill(0) // the core keeps its own copy
        }
    }

    /** Opened on first use, off the main thread (the screens' first call runs on Dispatchers.IO). */
    val client: FieldClient by opened
    val core: CoreGateways by lazy { CoreGateways(client) }
    val ladder: LadderGateways by lazy { LadderGateways(client) }
    val field: CoreFieldGateways by lazy { CoreFieldGateways(client) }
    val lock: LockState by lazy { LockState(core) }
    val countyTime: CountyTime by lazy { CountyTime(client) }

    /** The client has been opened (locking a store never opened would open it on the main thread). */
    val isOpen: Boolean get() = opened.isInitialized()
}

class FengqiaoApp : Application() {
    lateinit var container: AppContainer
        private set

    override fun onCreate() {
        super.onCreate()
        // The core keeps its sled store and photo folder here (app-private, excluded from backup),
        // all of it encrypted under the store key.
        container = AppContainer(File(filesDir, "core").apply { mkdirs() }, BuildConfig.SERVER_URL, StoreKeyProvider(this), trustConfig())
        SyncNotifications.createChannel(this)
        SyncScheduler.schedulePeriodic(this)
        SyncScheduler.syncWhenOnline(this)
        // Every activity of the app left the screen: close the user's data
        // until the PIN or biometrics open it again (no-op without a PIN).
        ProcessLifecycleOwner.get().lifecycle.addObserver(object : DefaultLifecycleObserver {
            override fun onStop(owner: LifecycleOwner) {
                if (container.isOpen) container.lock.lockNow()
            }
        })
    }
}

/**
 * How the core trusts the county's server: the key pins built in
 * (`fengqiao.serverPins`) and the county's own CA when the build ships one as the
 * asset `county-ca.pem`. The core does the checking (ADR 0033).
 */
private fun Application.trustConfig(): ClientConfig {
    val pins = BuildConfig.SERVER_PINS.split(',').map { it.trim() }.filter { it.isNotEmpty() }
    val ca = runCatching { assets.open("county-ca.pem").bufferedReader().use { it.readText() } }.getOrNull()
    return ClientConfig(serverCaPem = ca, serverPins = pins.ifEmpty { null })
}
