// The sync screen's state: counts, last sync, last error, the quarantine of
// refused operations (retry / discard, only on the user's request), and a
// running sync's progress. Also what the background worker does with a sync's
// outcome, so that decision is tested with the rest.
package org.fengqiao.app.state

import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.Job
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.fengqiao.core.EscalationDecision
import org.fengqiao.core.QuarantinedOp
import org.fengqiao.core.SyncPhase
import org.fengqiao.core.SyncReport
import org.fengqiao.core.SyncStatus

/**
 * A running sync's progress: `done` of `total` (0: unknown) in a phase. Pulling: the
 * feed position reached of the feed's end, so a first pull resumed after a cut shows
 * how far it has come.
 */
data class SyncProgress(val phase: SyncPhase, val done: ULong, val total: ULong) {
    /** 0..1, or null when the total is unknown (a pull from an older server). */
    val fraction: Float?
        get() = if (total == 0uL) null else (done.toDouble() / total.toDouble()).toFloat().coerceIn(0f, 1f)
    val percent: Int? get() = fraction?.let { (it * 100).toInt() }
}

data class SyncUi(
    val status: SyncStatus? = null,
    val running: Boolean = false,
    val progress: SyncProgress? = null,
    val lastReport: SyncReport? = null,
    val error: UiError? = null,
    /** The quarantined op being retried or discarded now. */
    val busyOpId: String? = null,
    /**
     * For each quarantined decision that lost to another approver's (by op id): the decision
     * that stands, with the decider's name from the core (`decidedByName`, null when the core
     * does not know it: show "another approver").
     */
    val standing: Map<String, EscalationDecision> = emptyMap(),
) {
    val quarantined: List<QuarantinedOp> get() = status?.quarantined.orEmpty()
    /** Something waits to go up: operations or photos. */
    val hasPending: Boolean get() = (status?.pendingOps ?: 0uL) > 0uL || (status?.photosPending ?: 0uL) > 0uL
    val needsLogin: Boolean get() = status?.sessionExpired == true || error?.needsLogin == true
}

/** What the background worker reports to WorkManager / BGTaskScheduler. */
enum class WorkerOutcome { SUCCESS, RETRY, FAILURE }

class SyncState(private val gateway: SyncGateway) {
    private val _ui = MutableStateFlow(SyncUi())
    val ui: StateFlow<SyncUi> = _ui.asStateFlow()

    @Volatile
    private var running: Job? = null

    suspend fun refresh() {
        val result = attempt { gateway.syncStatus() }
        val standing = result.getOrNull()?.let { standingOf(it) }
        _ui.update {
            it.copy(
                status = result.getOrNull() ?: it.status,
                error = result.uiError() ?: it.error,
                standing = standing ?: it.standing,
            )
        }
    }

    /** The standing decisions of the quarantined escalation decisions that lost a race. */
    private suspend fun standingOf(status: SyncStatus): Map<String, EscalationDecision> =
        status.quarantined
            .filter { it.kind == DECIDE_ESCALATION && it.code == CONFLICT }
            .mapNotNull { q -> attempt { gateway.standingDecision(q.opId) }.getOrNull()?.let { q.opId to it } }
            .toMap()

    /**
     * Runs one sync, reporting progress into [ui]; `null` if one is already
     * running or this one failed (the error is in [ui]). [cancel] stops it;
     * queued work stays intact either way.
     */
    suspend fun syncNow(): SyncReport? {
        val job = currentCoroutineContext()[Job]
        synchronized(this) {
            if (_ui.value.running) return null
            running = job
            _ui.update { it.copy(running = true, progress = null, error = null) }
        }
        try {
            val result = attempt {
                gateway.sync { phase, done, total -> _ui.update { it.copy(progress = SyncProgress(phase, done, total)) } }
            }
            _ui.update { it.copy(lastReport = result.getOrNull() ?: it.lastReport, error = result.uiError()) }
            return result.getOrNull()
        } catch (e: CancellationException) {
            _ui.update { it.copy(error = UiError("cancelled", "cancelled")) }
            throw e
        } finally {
            synchronized(this) {
                running = null
                _ui.update { it.copy(running = false, progress = null) }
            }
            // The status is local and quick; read it even when cancelled.
            kotlinx.coroutines.withContext(kotlinx.coroutines.NonCancellable) { refreshStatusOnly() }
        }
    }

    private suspend fun refreshStatusOnly() {
        attempt { gateway.syncStatus() }.getOrNull()?.let { s ->
            val standing = standingOf(s)
            _ui.update { it.copy(status = s, standing = standing) }
        }
    }

    /**
     * While the app is in the foreground (the screen runs this in its lifecycle scope and
     * cancels it when it leaves): waits for a change in the user's scope (an approval, a
     * new request) and syncs as soon as one comes, so it shows within seconds instead of
     * at the next periodic sync. A failed wait (offline) pauses [pauseOnErrorMs] before
     * the next; a sync already running is left to finish. Returns when cancelled, or when
     * the session ended or the phone locked (the error is in [ui]).
     */
    suspend fun followChanges(timeoutSecs: UInt = 25u, pauseOnErrorMs: Long = 5_000) {
        while (true) {
            currentCoroutineContext().ensureActive()
            if (_ui.value.running) {
                kotlinx.coroutines.delay(pauseOnErrorMs)
                continue
            }
            val result = attempt {
                gateway.waitAndSync(timeoutSecs) { phase, done, total -> _ui.update { it.copy(progress = SyncProgress(phase, done, total)) } }
            }
            val report = result.getOrNull()
            val error = result.uiError()
            _ui.update { it.copy(progress = null, lastReport = report ?: it.lastReport, error = error ?: it.error) }
            if (report != null) refreshStatusOnly()
            // Signed out or locked: only the user can change that.
            if (error != null && (error.needsLogin || error.needsUnlock)) return
            if (error != null) kotlinx.coroutines.delay(pauseOnErrorMs)
        }
    }

    /** Cancels the running sync, if any (the core stops at a safe point). */
    fun cancel() {
        running?.cancel()
    }

    /** Puts a refused operation back in the outbox; the next sync sends it again. */
    suspend fun retry(opId: String): Boolean = onQuarantined(opId) { gateway.retryQuarantined(it) }

    /** Drops a refused operation and the unsynced record it carried, for good. The screen asks first. */
    suspend fun discard(opId: String): Boolean = onQuarantined(opId) { gateway.discardQuarantined(it) }

    private suspend fun onQuarantined(opId: String, call: suspend (String) -> Unit): Boolean {
        if (_ui.value.busyOpId != null || _ui.value.running) {
            _ui.update { it.copy(error = UiError.local(LocalCodes.BUSY)) }
            return false
        }
        _ui.update { it.copy(busyOpId = opId, error = null) }
        val result = attempt { call(opId) }
        _ui.update { it.copy(busyOpId = null, error = result.uiError()) }
        refreshStatusOnly()
        return result.isSuccess
    }

    companion object {
        private const val DECIDE_ESCALATION = "decide_escalation"
        private const val CONFLICT = "conflict"

        /**
         * A background sync's outcome: transient failures (offline, server
         * down, rate limited) and cancellation are retried with back-off; a
         * missing or expired session, a revoked device or a locked phone
         * waits for the user (no point retrying); anything else fails this
         * run (the periodic work tries again later).
         */
        fun workerOutcome(error: UiError?): WorkerOutcome = when {
            error == null -> WorkerOutcome.SUCCESS
            error.needsLogin || error.needsUnlock -> WorkerOutcome.FAILURE
            error.transient || error.code == "cancelled" -> WorkerOutcome.RETRY
            else -> WorkerOutcome.FAILURE
        }
    }
}
