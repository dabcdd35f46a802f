// The judicial office's case-file review (案卷评查): the core's queue (cases,
// order, the missing papers in words), and for the case opened the form: pass
// (offered only when nothing is missing) or return with reasons, one a line.
// The core refuses what the server would; its typed error is shown.
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
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
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
import org.fengqiao.app.state.ReviewState
import org.fengqiao.app.sync.SyncScheduler
import org.fengqiao.core.Difficulty
import org.fengqiao.core.Grade

@Composable
fun ReviewScreen(state: ReviewState) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    LaunchedEffect(Unit) { state.refresh() }
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.review_title), style = MaterialTheme.typography.titleLarge)
        ErrorBanner(ui.error)
        if (ui.queue.isEmpty() && !ui.loading) Text(stringResource(R.string.review_empty))
        LazyColumn(verticalArrangement = Arrangement.spacedBy(12.dp)) {
            items(ui.queue, key = { it.dispute.dispute.id }) { item ->
                val d = item.dispute.dispute
                Card(Modifier.fillMaxWidth()) {
                    Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
                        Text(d.caseNumber, style = MaterialTheme.typography.labelLarge)
                        Text(d.summary, maxLines = 2)
                        if (item.missing.isNotEmpty()) {
                            Text(stringResource(R.string.review_missing, item.missing.joinToString("、")), color = MaterialTheme.colorScheme.error)
                        }
                        item.lastReview?.let { Text(it.reasons.joinToString("；"), style = MaterialTheme.typography.bodySmall) }
                        val form = ui.form?.takeIf { it.disputeId == d.id }
                        if (form == null) {
                            TextButton(onClick = { state.open(d.id) }) { Text(stringResource(R.string.review_open)) }
                        } else {
                            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                                FilterChip(
                                    selected = form.passed,
                                    enabled = item.missing.isEmpty(),
                                    onClick = { state.setPassed(true) },
                                    label = { Text(stringResource(R.string.review_pass)) },
                                )
                                FilterChip(selected = !form.passed, onClick = { state.setPassed(false) }, label = { Text(stringResource(R.string.review_return)) })
                            }
                            OutlinedTextField(
                                value = form.score.toString(),
                                onValueChange = { t -> t.toIntOrNull()?.let(state::setScore) },
                                label = { Text(stringResource(R.string.review_score)) },
                            )
                            Text(stringResource(R.string.review_correct), style = MaterialTheme.typography.labelMedium)
                            Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                                FilterChip(selected = form.grade == null, onClick = { state.setGrade(null) }, label = { Text(stringResource(R.string.review_keep)) })
                                Grade.entries.forEach { g ->
                                    FilterChip(selected = form.grade == g, onClick = { state.setGrade(g) }, label = { Text(stringResource(gradeRes(g))) })
                                }
                            }
                            Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                                FilterChip(selected = form.difficulty == null, onClick = { state.setDifficulty(null) }, label = { Text(stringResource(R.string.review_keep)) })
                                Difficulty.entries.forEach { d ->
                                    FilterChip(selected = form.difficulty == d, onClick = { state.setDifficulty(d) }, label = { Text(stringResource(difficultyRes(d))) })
                                }
                            }
                            if (form.grade != null || form.difficulty != null) {
                                OutlinedTextField(
                                    value = form.correctionReason,
                                    onValueChange = state::setCorrectionReason,
                                    label = { Text(stringResource(R.string.review_correction_reason)) },
                                    modifier = Modifier.fillMaxWidth(),
                                )
                            }
                            if (!form.passed) {
                                OutlinedTextField(
                                    value = form.reasons,
                                    onValueChange = state::setReasons,
                                    label = { Text(stringResource(R.string.review_reasons)) },
                                    modifier = Modifier.fillMaxWidth(),
                                )
                            }
                            Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                                Button(enabled = !ui.busy, onClick = {
                                    scope.launch { if (state.submit()) SyncScheduler.syncWhenOnline(context) }
                                }) { Text(stringResource(R.string.review_submit)) }
                                TextButton(onClick = state::close) { Text(stringResource(R.string.cancel)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
