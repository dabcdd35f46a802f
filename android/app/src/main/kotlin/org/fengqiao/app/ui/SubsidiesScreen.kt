// My subsidies (我的案件补贴): totals owed / under review / paid, then each case.
package org.fengqiao.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Card
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import org.fengqiao.app.R
import org.fengqiao.app.state.Money
import org.fengqiao.app.state.SubsidiesState

@Composable
fun SubsidiesScreen(state: SubsidiesState, onOpenCase: (disputeId: String) -> Unit = {}) {
    val ui by state.ui.collectAsStateWithLifecycle()
    LaunchedEffect(Unit) { state.refresh() }
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.subsidies_title), style = MaterialTheme.typography.titleLarge)
        ErrorBanner(ui.error)
        Card(Modifier.fillMaxWidth()) {
            Row(Modifier.padding(12.dp).fillMaxWidth(), horizontalArrangement = Arrangement.SpaceBetween) {
                Total(stringResource(R.string.subsidies_owed), Money.yuan(ui.totals.owedFen))
                Total(stringResource(R.string.subsidies_under_review), Money.yuan(ui.totals.underReviewFen))
                Total(stringResource(R.string.subsidies_paid), Money.yuan(ui.totals.paidFen))
            }
        }
        if (ui.rows.isEmpty() && !ui.loading) Text(stringResource(R.string.subsidies_empty))
        LazyColumn {
            items(ui.rows, key = { it.id }) { s ->
                ListItem(
                    headlineContent = { Text(s.caseNumber) },
                    supportingContent = {
                        val status = stringResource(subsidyStatusRes(s.status))
                        val overdue = if (s.overdue) " · " + stringResource(R.string.subsidy_overdue) else ""
                        // the core's words for a returned file (a missing paper by its name)
                        val reason = if (s.reasonText.isNotBlank()) "\n${s.reasonText}" else ""
                        val estimate = if (!s.isFinal) " · " + stringResource(R.string.subsidy_estimate) else ""
                        val paid = s.paidAtMs?.let { "\n" + stringResource(R.string.subsidy_paid_on, formatDate(it), s.paymentRef) } ?: ""
                        Text("${formatDate(s.accruedAtMs)} · $status$estimate$overdue$reason$paid")
                    },
                    modifier = Modifier.clickable { s.disputeId?.let(onOpenCase) },
                    trailingContent = { Text(Money.yuan(s.amountFen), style = MaterialTheme.typography.titleMedium) },
                )
                HorizontalDivider()
            }
        }
    }
}

@Composable
private fun Total(label: String, amount: String) {
    Column {
        Text(label, style = MaterialTheme.typography.labelMedium)
        Text(amount, style = MaterialTheme.typography.titleMedium)
    }
}
