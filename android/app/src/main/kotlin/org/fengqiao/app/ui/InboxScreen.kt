// The approver's inbox (上报审批): open a request to read the whole case (the
// core's one record: kind, reason, requester, parties, sessions, agreements,
// photos, flow table, deadline), approve or refuse with a comment (the core's
// templates offered; refusing needs one), and the history of my decisions with
// any decision that stood instead of mine.
package org.fengqiao.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import kotlinx.coroutines.launch
import org.fengqiao.app.R
import org.fengqiao.app.state.InboxState
import org.fengqiao.app.sync.SyncScheduler

@Composable
fun InboxScreen(state: InboxState, onOpenDispute: (String) -> Unit) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    LaunchedEffect(Unit) { state.refresh() }
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.inbox_title), style = MaterialTheme.typography.titleLarge)
        ErrorBanner(ui.error)
        if (ui.rows.isEmpty() && !ui.loading) Text(stringResource(R.string.inbox_empty))
        LazyColumn(verticalArrangement = Arrangement.spacedBy(12.dp)) {
            items(ui.rows, key = { it.escalationId }) { r ->
                Card(Modifier.fillMaxWidth()) {
                    Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
                        Text("${r.caseNumber} · ${stringResource(gradeRes(r.grade))}", style = MaterialTheme.typography.labelLarge)
                        OutlinedButton(onClick = { onOpenDispute(r.disputeId) }) { Text(r.summary, maxLines = 2) }
                        Text(stringResource(R.string.inbox_from_to, stringResource(levelRes(r.fromLevel)), stringResource(levelRes(r.toLevel))))
                        Text(stringResource(reasonRes(r.reason)) + if (r.note.isNotBlank()) "：${r.note}" else "")
                        Text(formatTime(r.requestedAtMs), style = MaterialTheme.typography.bodySmall)
                        r.deadlineState?.let { Text(stringResource(deadlineRes(it)), style = MaterialTheme.typography.bodySmall) }
                        val case = ui.case?.takeIf { it.escalation.id == r.escalationId }
                        if (case == null) {
                            TextButton(onClick = { scope.launch { state.open(r.escalationId) } }) {
                                Text(stringResource(R.string.inbox_whole_case))
                            }
                        } else {
                            Text("${case.kindLabel} · ${case.reasonLabel}", style = MaterialTheme.typography.labelLarge)
                            case.requesterName?.let { Text(stringResource(R.string.inbox_requested_by, it)) }
                            Text(case.deadlineText, style = MaterialTheme.typography.bodySmall)
                            Text(case.file.item.dispute.parties.joinToString("、") { it.name })
                            val a = case.file.item.dispute.analysis
                            Text("${a.cause} / ${a.consequences}", style = MaterialTheme.typography.bodySmall)
                            case.file.sessions.forEach { s -> Text("${formatTime(s.heldAtMs)} ${s.place}：${s.record}", style = MaterialTheme.typography.bodySmall) }
                            case.file.agreements.forEach { ag -> Text("${formatTime(ag.signedAtMs)}：${ag.terms}", style = MaterialTheme.typography.bodySmall) }
                            Text(stringResource(R.string.inbox_flow_photos, case.file.flow.size, case.photos.size), style = MaterialTheme.typography.bodySmall)
                            (case.approveTemplates + case.refuseTemplates).forEach { t ->
                                TextButton(onClick = { state.useTemplate(r.escalationId, t) }) { Text(t, maxLines = 1) }
                            }
                        }
                        OutlinedTextField(
                            value = ui.comment(r.escalationId),
                            onValueChange = { state.setComment(r.escalationId, it) },
                            label = { Text(stringResource(R.string.inbox_comment)) },
                            modifier = Modifier.fillMaxWidth(),
                        )
                        val busy = ui.busyId != null
                        Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                            Button(enabled = !busy, onClick = {
                                scope.launch { if (state.approve(r.escalationId)) SyncScheduler.syncWhenOnline(context) }
                            }) { Text(stringResource(R.string.approve)) }
                            OutlinedButton(enabled = !busy, onClick = {
                                scope.launch { if (state.refuse(r.escalationId)) SyncScheduler.syncWhenOnline(context) }
                            }) { Text(stringResource(R.string.refuse)) }
                        }
                    }
                }
            }
            if (ui.history.isNotEmpty()) {
                item { Text(stringResource(R.string.inbox_history), style = MaterialTheme.typography.titleMedium) }
                items(ui.history, key = { "h-" + it.escalationId + it.decidedAtMs }) { h ->
                    Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
                        val mine = stringResource(if (h.approved) R.string.approve else R.string.refuse)
                        Text("${h.caseNumber} · $mine · ${formatTime(h.decidedAtMs)}" + if (h.pending) " …" else "")
                        if (h.comment.isNotBlank()) Text(h.comment, style = MaterialTheme.typography.bodySmall)
                        h.supersededBy?.let { s ->
                            val what = stringResource(if (s.approved) R.string.approve else R.string.refuse)
                            Text(
                                stringResource(R.string.inbox_superseded, s.decidedByName ?: stringResource(R.string.another_approver), what, formatTime(s.decidedAtMs)),
                                color = MaterialTheme.colorScheme.error,
                            )
                        }
                    }
                }
            }
        }
    }
}
