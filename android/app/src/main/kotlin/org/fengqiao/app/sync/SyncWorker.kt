// One background sync: the same SyncState the sync screen uses, with its
// progress shown in a foreground notification (photo uploads can take a
// while on a rural connection). Retry or not is SyncState.workerOutcome's
// decision (tested on the JVM).
package org.fengqiao.app.sync

import android.content.Context
import android.content.pm.ServiceInfo
import android.os.Build
import androidx.work.CoroutineWorker
import androidx.work.ForegroundInfo
import androidx.work.WorkerParameters
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.collectLatest
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import org.fengqiao.app.FengqiaoApp
import org.fengqiao.app.state.CoreNotifications
import org.fengqiao.app.state.NotificationsState
import org.fengqiao.app.state.SyncProgress
import org.fengqiao.app.state.SyncState
import org.fengqiao.app.state.WorkerOutcome

class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result = coroutineScope {
        val app = applicationContext as FengqiaoApp
        val core = app.container.core
        if (core.currentUser() == null) return@coroutineScope Result.success() // nothing to do until someone signs in
        // A PIN-locked phone still sends its queued work and fetches changes
        // (nothing is shown; the user's data stays closed to whoever holds it).
        if (runCatching { core.lockStatus().locked }.getOrDefault(false)) {
            return@coroutineScope try {
                core.sync(null, null)
                Result.success()
            } catch (e: uniffi.fengqiao.FengqiaoException) {
                if (e.code() in setOf("network", "server", "rate_limited")) Result.retry() else Result.success()
            }
        }
        val state = SyncState(core)
        state.refresh()
        // A sync with work to send shows its progress (photo uploads can be
        // long); a quiet periodic pull does not. Android 12+ may refuse a
        // foreground start from the background: the sync then runs without it.
        val visible = state.ui.value.hasPending && runCatching { setForeground(foregroundInfo(null)) }.isSuccess
        val progressJob = launch {
            if (!visible) return@launch
            // Coarse updates: phase and whole percent.
            state.ui.map { it.progress?.let { p -> p.phase to p.percent } }.distinctUntilChanged().collectLatest {
                runCatching { setForeground(foregroundInfo(state.ui.value.progress)) }
            }
        }
        state.syncNow()
        progressJob.cancel()
        // Being told: the core worked out what is new during the sync; raise
        // each pending notice once and acknowledge it (the core never gives it again).
        NotificationsState(CoreNotifications(app.container.client)).deliver { SyncNotifications.notice(applicationContext, it) }
        when (SyncState.workerOutcome(state.ui.value.error)) {
            WorkerOutcome.SUCCESS -> Result.success()
            WorkerOutcome.RETRY -> Result.retry()
            WorkerOutcome.FAILURE -> Result.failure()
        }
    }

    override suspend fun getForegroundInfo(): ForegroundInfo = foregroundInfo(null)

    private fun foregroundInfo(progress: SyncProgress?): ForegroundInfo {
        val n = SyncNotifications.progress(applicationContext, progress)
        return if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
            ForegroundInfo(SyncNotifications.NOTIFICATION_ID, n, ServiceInfo.FOREGROUND_SERVICE_TYPE_DATA_SYNC)
        } else {
            ForegroundInfo(SyncNotifications.NOTIFICATION_ID, n)
        }
    }
}
