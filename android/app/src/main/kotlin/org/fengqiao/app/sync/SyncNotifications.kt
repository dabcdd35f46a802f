// The sync notification: a low-importance channel and the progress shown
// while a background sync runs as a foreground job. No personal data in it.
// And the notices the core works out after each sync (being told): one channel
// per tab they open, each notice raised under its core key as the tag, so
// raising it again after a crash replaces it rather than adding a second.
package org.fengqiao.app.sync

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import org.fengqiao.app.MainActivity
import org.fengqiao.app.R
import org.fengqiao.app.state.SyncProgress
import org.fengqiao.core.Notice
import org.fengqiao.core.NoticeTab
import org.fengqiao.core.SyncPhase

object SyncNotifications {
    const val CHANNEL_ID = "sync"
    const val NOTIFICATION_ID = 1001

    /** The notice channels, by the tab a notice opens. */
    private fun channelOf(tab: NoticeTab): String = "notice-" + tab.name.lowercase()
    private const val NOTICE_ID = 2001

    fun createChannel(context: Context) {
        val manager = context.getSystemService(NotificationManager::class.java)
        val channel = NotificationChannel(CHANNEL_ID, context.getString(R.string.sync_channel), NotificationManager.IMPORTANCE_LOW)
        manager.createNotificationChannel(channel)
        val names = mapOf(
            NoticeTab.INBOX to R.string.notice_channel_inbox,
            NoticeTab.DISPUTES to R.string.notice_channel_disputes,
            NoticeTab.SUBSIDIES to R.string.notice_channel_subsidies,
            NoticeTab.PREVENTION to R.string.notice_channel_prevention,
        )
        for ((tab, name) in names) {
            manager.createNotificationChannel(
                NotificationChannel(channelOf(tab), context.getString(name), NotificationManager.IMPORTANCE_DEFAULT),
            )
        }
    }

    /**
     * Raises one of the core's notices (its title and text, in the core's words);
     * false when the user turned notifications off (it stays listed in the app).
     */
    fun notice(context: Context, n: Notice): Boolean {
        val manager = NotificationManagerCompat.from(context)
        if (!manager.areNotificationsEnabled()) return false
        val open = PendingIntent.getActivity(
            context,
            n.key.hashCode(),
            Intent(context, MainActivity::class.java).putExtra("notice_key", n.key).putExtra("notice_tab", n.tab.name),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        val built = NotificationCompat.Builder(context, channelOf(n.tab))
            .setSmallIcon(android.R.drawable.stat_notify_more)
            .setContentTitle(n.title)
            .setContentText(n.body)
            .setStyle(NotificationCompat.BigTextStyle().bigText(n.body))
            .setWhen(n.atMs)
            .setContentIntent(open)
            .setAutoCancel(true)
            .build()
        return try {
            manager.notify(n.key, NOTICE_ID, built)
            true
        } catch (e: SecurityException) {
            false // POST_NOTIFICATIONS not granted
        }
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
