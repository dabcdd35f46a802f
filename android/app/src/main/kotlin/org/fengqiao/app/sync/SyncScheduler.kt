// Background sync with WorkManager: a periodic sync every 15 minutes (the
// shortest WorkManager allows) when a network is up, and a one-time sync as
// soon as the phone is online again (enqueued at start and after each change
// the user saves). Both run SyncWorker under one unique name each, so they
// never pile up.
package org.fengqiao.app.sync

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import java.util.concurrent.TimeUnit

object SyncScheduler {
    const val PERIODIC = "fengqiao-sync-periodic"
    const val ON_CONNECTIVITY = "fengqiao-sync-online"

    private val online = Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

    fun schedulePeriodic(context: Context) {
        val request = PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES)
            .setConstraints(online)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 1, TimeUnit.MINUTES)
            .build()
        WorkManager.getInstance(context).enqueueUniquePeriodicWork(PERIODIC, ExistingPeriodicWorkPolicy.KEEP, request)
    }

    /** Syncs once the phone is online (at once if it is). Call after saving work offline. */
    fun syncWhenOnline(context: Context) {
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setConstraints(online)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
            .build()
        // KEEP: one waiting request covers every change saved meanwhile.
        WorkManager.getInstance(context).enqueueUniqueWork(ON_CONNECTIVITY, ExistingWorkPolicy.KEEP, request)
    }
}
