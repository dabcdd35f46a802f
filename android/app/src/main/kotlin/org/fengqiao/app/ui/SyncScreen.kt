// Sync (同步): what waits, the last sync, progress of a running one, and the
// quarantine of operations the server refused (retry, or discard after asking),
// and the PIN that locks the user's data on this phone.
package org.fengqiao.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import kotlinx.coroutines.launch
import org.fengqiao.app.R
import org.fengqiao.app.state.LockState
import org.fengqiao.app.state.SyncState
import org.fengqiao.core.SyncPhase

@Composable
fun SyncScreen(state: SyncState, lock: LockState, onNeedsLogin: () -> Unit) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var confirmDiscard by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(Unit) { state.refresh() }
    // While this screen shows: a change in the user's scope is pulled within seconds.
    LaunchedEffect(state) { state.followChanges() }

    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.sync_title), style = MaterialTheme.typography.titleLarge)
        val s = ui.status
        if (s != null) {
            Text(stringResource(R.string.sync_pending_ops, s.pendingOps.toInt()))
            if (s.photosPending > 0uL) Text(stringResource(R.string.photos_pending, s.photosPending.toInt()))
            if (s.waitingForOtherUsers > 0uL) Text(stringResource(R.string.sync_waiting_other_users, s.waitingForOtherUsers.toInt()))
            Text(s.lastSyncAtMs?.let { stringResource(R.string.sync_last, formatTime(it)) } ?: stringResource(R.string.sync_never))
            s.lastError?.let { e -> if (!ui.running) Text(stringResource(R.string.sync_last_error, errorText(org.fengqiao.app.state.UiError(e.code, e.message)))) }
        }
        if (ui.needsLogin) {
            Text(stringResource(R.string.session_expired_login), color = MaterialTheme.colorScheme.error)
            Button(onClick = onNeedsLogin) { Text(stringResource(R.string.login_submit)) }
        }
        ErrorBanner(ui.error?.takeIf { !ui.needsLogin })

        val p = ui.progress
        if (ui.running) {
            Text(
                when (p?.phase) {
                    SyncPhase.PUSHING -> stringResource(R.string.sync_phase_pushing)
                    SyncPhase.PULLING -> stringResource(R.string.sync_phase_pulling)
                    SyncPhase.UPLOADING -> stringResource(R.string.sync_phase_uploading)
                    null -> stringResource(R.string.loading)
                },
            )
            val f = p?.fraction
            if (f == null) LinearProgressIndicator(Modifier.fillMaxWidth()) else LinearProgressIndicator(progress = { f }, modifier = Modifier.fillMaxWidth())
            OutlinedButton(onClick = state::cancel) { Text(stringResource(R.string.cancel)) }
        } else {
            Button(onClick = { scope.launch { state.syncNow() } }, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.sync_now)) }
            ui.lastReport?.let { r ->
                Text(stringResource(R.string.sync_done, (r.pushedApplied + r.pushedDuplicate).toInt(), r.pulled.toInt()))
            }
        }

        PinSettingsCard(lock)

        Text(stringResource(R.string.quarantine_title), style = MaterialTheme.typography.titleMedium)
        if (ui.quarantined.isEmpty()) Text(stringResource(R.string.quarantine_empty))
        LazyColumn(verticalArrangement = Arrangement.spacedBy(8.dp)) {
            items(ui.quarantined, key = { it.opId }) { q ->
                Card(Modifier.fillMaxWidth()) {
                    Column(Modifier.padding(12.dp)) {
                        Text("${q.kind} · ${q.code}", style = MaterialTheme.typography.labelLarge)
                        Text(q.message)
                        Text(formatTime(q.quarantinedAtMs), style = MaterialTheme.typography.bodySmall)
                        Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                            val busy = ui.busyOpId != null || ui.running
                            TextButton(enabled = !busy, onClick = { scope.launch { state.retry(q.opId) } }) {
                                Text(stringResource(R.string.quarantine_retry))
                            }
                            TextButton(enabled = !busy, onClick = { confirmDiscard = q.opId }) {
                                Text(stringResource(R.string.quarantine_discard))
                            }
                        }
                    }
                }
            }
        }
    }

    confirmDiscard?.let { opId ->
        AlertDialog(
            onDismissRequest = { confirmDiscard = null },
            text = { Text(stringResource(R.string.quarantine_discard_confirm)) },
            confirmButton = {
                TextButton(onClick = { confirmDiscard = null; scope.launch { state.discard(opId) } }) { Text(stringResource(R.string.confirm)) }
            },
            dismissButton = { TextButton(onClick = { confirmDiscard = null }) { Text(stringResource(R.string.cancel)) } },
        )
    }
}
