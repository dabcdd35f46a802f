// The sync notification: a low-importance channel and the progress shown
// while a background sync runs as a foreground job. No personal data in it.
package org.fengqiao.app.sync

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.content.Context
import androidx.core.app.NotificationCompat
import org.fengqiao.app.R
import org.fengqiao.app.state.SyncProgress
import org.fengqiao.core.SyncPhase

object SyncNotifications {
    const val CHANNEL_ID = "sync"
    const val NOTIFICATION_ID = 1001

    fun createChannel(context: Context) {
        val channel = NotificationChannel(CHANNEL_ID, context.getString(R.string.sync_channel), NotificationManager.IMPORTANCE_LOW)
        context.getSystemService(NotificationManager::class.java).createNotificationChannel(channel)
    }

    fun progress(context: Context, progress: SyncProgress?): Notification {
        val text = when (progress?.phase) {
            SyncPhase.PUSHING -> context.getString(R.string.sync_phase_pushing)
            SyncPhase.PULLING -> context.getString(R.string.sync_phase_pulling)
            SyncPhase.UPLOADING -> context.getString(R.string.sync_phase_uploading)
            null -> ""
        }
        val b = NotificationCompat.Builder(context, CHANNEL_ID)
            .setSmallIcon(android.R.drawable.stat_notify_sync)
            .setContentTitle(context.getString(R.string.sync_notification_title))
            .setContentText(text)
            .setOngoing(true)
            .setOnlyAlertOnce(true)
            .setSilent(true)
        val percent = progress?.percent
        if (percent == null) b.setProgress(0, 0, true) else b.setProgress(100, percent, false)
        return b.build()
    }
}
