// Disputes (矛盾纠纷): the list with deadline states, and a dispute's detail
// with its flow table (流向表) and the escalation request (逐级上报).
package org.fengqiao.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import kotlinx.coroutines.launch
import org.fengqiao.app.R
import org.fengqiao.app.state.DeadlineState
import org.fengqiao.app.state.DisputeDetailState
import org.fengqiao.app.state.DisputeFilter
import org.fengqiao.app.state.DisputeListState
import org.fengqiao.app.state.DisputeRow
import org.fengqiao.app.state.EscalationReasonCode
import org.fengqiao.app.sync.SyncScheduler

@Composable
private fun deadlineColor(state: DeadlineState?): Color = when (state) {
    DeadlineState.OVERDUE -> MaterialTheme.colorScheme.error
    DeadlineState.APPROACHING -> MaterialTheme.colorScheme.tertiary
    else -> MaterialTheme.colorScheme.onSurfaceVariant
}

@Composable
private fun DisputeStatusLine(row: DisputeRow) {
    val parts = buildList {
        add(stringResource(gradeRes(row.grade)))
        add(stringResource(levelRes(row.level)))
        if (row.closed) add(stringResource(R.string.dispute_closed))
        else row.deadlineState?.let { add(stringResource(deadlineRes(it)) + " " + formatDate(row.deadlineAtMs)) }
        if (row.pending) add(stringResource(R.string.pending_sync))
    }
    Text(parts.joinToString(" · "), color = deadlineColor(row.deadlineState), style = MaterialTheme.typography.bodySmall)
}

@Composable
fun DisputeListScreen(state: DisputeListState, onOpen: (String) -> Unit) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    LaunchedEffect(Unit) { state.refresh() }
    Column(Modifier.fillMaxSize()) {
        Row(Modifier.padding(16.dp, 8.dp), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            val labels = mapOf(
                DisputeFilter.ALL to R.string.filter_all,
                DisputeFilter.MINE to R.string.filter_mine,
                DisputeFilter.OVERDUE to R.string.filter_overdue,
            )
            labels.forEach { (f, res) ->
                FilterChip(selected = ui.filter == f, onClick = { scope.launch { state.setFilter(f) } }, label = { Text(stringResource(res)) })
            }
        }
        ErrorBanner(ui.error)
        if (ui.rows.isEmpty() && !ui.loading) Text(stringResource(R.string.disputes_empty), Modifier.padding(16.dp))
        LazyColumn {
            items(ui.rows, key = { it.id }) { row ->
                ListItem(
                    overlineContent = { Text(row.caseNumber) },
                    headlineContent = { Text(row.summary, maxLines = 2) },
                    supportingContent = { DisputeStatusLine(row) },
                    modifier = Modifier.clickable { onOpen(row.id) },
                )
                HorizontalDivider()
            }
        }
    }
}

@Composable
fun DisputeDetailScreen(state: DisputeDetailState) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    LaunchedEffect(state.disputeId) { state.load() }
    val detail = ui.detail
    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        ErrorBanner(ui.error)
        if (detail == null) {
            Text(stringResource(R.string.loading))
            return@Column
        }
        val row = detail.row
        Text(row.caseNumber, style = MaterialTheme.typography.labelLarge)
        Text(row.summary, style = MaterialTheme.typography.titleMedium)
        DisputeStatusLine(row)
        Text(stringResource(R.string.dispute_level, stringResource(levelRes(row.level))))
        row.pendingEscalationTo?.let {
            Text(stringResource(R.string.escalation_waiting, stringResource(levelRes(it))), color = MaterialTheme.colorScheme.tertiary)
        }

        // The flow table: every move of this dispute, by step.
        Text(stringResource(R.string.flow_table), style = MaterialTheme.typography.titleSmall)
        if (detail.flow.isEmpty()) Text(stringResource(R.string.flow_empty), style = MaterialTheme.typography.bodySmall)
        detail.flow.forEach { f ->
            Row(Modifier.fillMaxWidth(), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Text("${f.step}.")
                Column {
                    Text("${formatTime(f.atMs)} · ${stringResource(levelRes(f.level))} · ${flowKindText(f.kind)}")
                    if (f.note.isNotBlank()) Text(f.note, style = MaterialTheme.typography.bodySmall)
                }
            }
        }

        if (ui.requested) Text(stringResource(R.string.escalation_requested))
        if (ui.canRequest) {
            Card(Modifier.fillMaxWidth()) {
                Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                    Text(stringResource(R.string.escalation_request), style = MaterialTheme.typography.titleSmall)
                    Text(stringResource(R.string.escalate_to))
                    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                        detail.escalateTo.forEach { l ->
                            FilterChip(selected = ui.form.toLevel == l, onClick = { state.chooseLevel(l) }, label = { Text(stringResource(levelRes(l))) })
                        }
                    }
                    if (ui.officeChoice.isNotEmpty()) {
                        Text(stringResource(R.string.escalate_to_office))
                        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                            ui.officeChoice.forEach { o ->
                                FilterChip(selected = ui.form.office == o.id, onClick = { state.chooseOffice(o.id) }, label = { Text(o.name) })
                            }
                        }
                    }
                    Text(stringResource(R.string.escalation_reason))
                    Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                        EscalationReasonCode.entries.forEach { r ->
                            FilterChip(selected = ui.form.reason == r, onClick = { state.chooseReason(r) }, label = { Text(stringResource(reasonRes(r))) })
                        }
                    }
                    OutlinedTextField(
                        value = ui.form.note,
                        onValueChange = state::setNote,
                        label = { Text(stringResource(R.string.escalation_note)) },
                        minLines = 2,
                        modifier = Modifier.fillMaxWidth(),
                    )
                    Button(
                        enabled = !ui.submitting,
                        onClick = { scope.launch { if (state.requestEscalation()) SyncScheduler.syncWhenOnline(context) } },
                    ) { Text(stringResource(R.string.escalation_submit)) }
                }
            }
        }
    }
}
