// My subsidies (案件补贴, 一案一补): each resolved case's subsidy with its status,
// and the totals a mediator asks about: what is owed, what is paid.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/** Sums in fen. */
data class SubsidyTotals(
    /** Accrued, approved or in a batch: owed and not yet paid. */
    val owedFen: Long = 0,
    /** Of the owed, held until the case file passes review again. */
    val underReviewFen: Long = 0,
    val paidFen: Long = 0,
    val rejectedCount: Int = 0,
    /** Approved but unpaid past the county's days. */
    val overdueCount: Int = 0,
    val count: Int = 0,
) {
    companion object {
        private val OWED = setOf(
            SubsidyStatusCode.ACCRUED,
            SubsidyStatusCode.UNDER_REVIEW,
            SubsidyStatusCode.APPROVED,
            SubsidyStatusCode.BATCHED,
        )

        fun of(rows: List<SubsidyRow>) = SubsidyTotals(
            owedFen = rows.filter { it.status in OWED }.sumOf { it.amountFen },
            underReviewFen = rows.filter { it.status == SubsidyStatusCode.UNDER_REVIEW }.sumOf { it.amountFen },
            paidFen = rows.filter { it.status == SubsidyStatusCode.PAID }.sumOf { it.amountFen },
            rejectedCount = rows.count { it.status == SubsidyStatusCode.REJECTED },
            overdueCount = rows.count { it.overdue },
            count = rows.size,
        )
    }
}

data class SubsidiesUi(
    val loading: Boolean = false,
    val rows: List<SubsidyRow> = emptyList(),
    val totals: SubsidyTotals = SubsidyTotals(),
    val error: UiError? = null,
)

class SubsidiesState(private val gateway: SubsidiesGateway) {
    private val _ui = MutableStateFlow(SubsidiesUi())
    val ui: StateFlow<SubsidiesUi> = _ui.asStateFlow()

    suspend fun refresh() {
        _ui.update { it.copy(loading = true) }
        val result = attempt { gateway.mySubsidies() }
        _ui.update { ui ->
            // Overdue first (the ones to chase), then the newest first.
            val rows = result.getOrNull()?.sortedWith(compareByDescending<SubsidyRow> { it.overdue }.thenByDescending { it.accruedAtMs }) ?: ui.rows
            ui.copy(loading = false, rows = rows, totals = SubsidyTotals.of(rows), error = result.uiError())
        }
    }
}
