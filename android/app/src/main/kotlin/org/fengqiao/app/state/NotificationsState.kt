// Being told: the notices the core works out after every sync (once each, even
// across restarts), the counts on the tabs and the global indicator. The app
// keeps no rule of its own here: what is new, its words, the order and the
// counts are the core's. After a background sync the worker delivers each
// pending notice to the platform (tag: the notice's key, so raising it again
// after a crash replaces it) and acknowledges those raised.
package org.fengqiao.app.state

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import org.fengqiao.core.FieldClient
import org.fengqiao.core.Indicator
import org.fengqiao.core.Notice
import org.fengqiao.core.TabCounts

/** The core's notices, counts and indicator. */
interface NotificationsGateway {
    /** Works out what is new (the core does it after every sync too); the notices added. */
    suspend fun refresh(): List<Notice>
    /** Given and not yet acknowledged, oldest first. */
    suspend fun pending(): List<Notice>
    /** Marks notices shown: never given again. */
    suspend fun acknowledge(keys: List<String>)
    suspend fun counts(): TabCounts
    suspend fun indicator(): Indicator
}

/** [NotificationsGateway] over the real core, off the main thread. */
class CoreNotifications(private val client: FieldClient) : NotificationsGateway {
    override suspend fun refresh(): List<Notice> = withContext(Dispatchers.IO) { client.refreshNotices() }
    override suspend fun pending(): List<Notice> = withContext(Dispatchers.IO) { client.pendingNotices() }
    override suspend fun acknowledge(keys: List<String>) {
        withContext(Dispatchers.IO) { client.acknowledgeNotices(keys) }
    }
    override suspend fun counts(): TabCounts = withContext(Dispatchers.IO) { client.tabCounts() }
    override suspend fun indicator(): Indicator = withContext(Dispatchers.IO) { client.indicator() }
}

data class NotificationsUi(
    /** Notices not yet acknowledged, in the core's order and words. */
    val pending: List<Notice> = emptyList(),
    /** The badges on the tabs. */
    val counts: TabCounts? = null,
    /** The global indicator (what waits to be sent, last sync, anything needing the user). */
    val indicator: Indicator? = null,
    val error: UiError? = null,
)

class NotificationsState(private val gateway: NotificationsGateway) {
    private val _ui = MutableStateFlow(NotificationsUi())
    val ui: StateFlow<NotificationsUi> = _ui.asStateFlow()

    /** Reloads notices, counts and indicator (after a sync, on unlock, on resume). */
    suspend fun load() {
        val result = attempt { Triple(gateway.pending(), gateway.counts(), gateway.indicator()) }
        _ui.update { ui ->
            result.getOrNull()?.let { (p, c, i) -> ui.copy(pending = p, counts = c, indicator = i, error = null) }
                ?: ui.copy(error = result.uiError())
        }
    }

    /** Works out what is new now (deadlines pass offline too), then reloads. */
    suspend fun refresh() {
        val result = attempt { gateway.refresh() }
        if (result.isFailure) {
            _ui.update { it.copy(error = result.uiError()) }
            return
        }
        load()
    }

    /**
     * Hands each pending notice to [raise] (the platform's notification; false when it
     * could not be shown, e.g. notifications are off) and acknowledges those raised, so
     * none is raised twice; the rest stay listed in the app. Returns how many were raised.
     */
    suspend fun deliver(raise: (Notice) -> Boolean): Int {
        val pending = attempt { gateway.pending() }.getOrElse {
            _ui.update { ui -> ui.copy(error = UiError.of(it)) }
            return 0
        }
        val raised = pending.filter(raise).map { it.key }
        if (raised.isNotEmpty()) {
            val ack = attempt { gateway.acknowledge(raised) }
            if (ack.isFailure) _ui.update { it.copy(error = ack.uiError()) }
        }
        load()
        return raised.size
    }

    /** The user opened a notice in the app: it is shown. */
    suspend fun open(key: String) {
        val ack = attempt { gateway.acknowledge(listOf(key)) }
        if (ack.isFailure) _ui.update { it.copy(error = ack.uiError()) } else load()
    }
}
