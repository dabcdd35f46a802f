// My subsidies (案件补贴, 一案一补): each resolved case's subsidy with its status,
// and the totals a mediator asks about: what is owed, what is paid.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/** Sums in fen, as the core computes them (the app adds nothing up). */
data class SubsidyTotals(
    /** Accrued, under review, approved or in a batch: owed and not yet paid. */
    val owedFen: Long = 0,
    /** Of the owed, held until the case file passes review again. */
    val underReviewFen: Long = 0,
    val paidFen: Long = 0,
    val rejectedCount: Int = 0,
    /** Approved but unpaid past the county's days. */
    val overdueCount: Int = 0,
    val count: Int = 0,
)

/** The signed-in user's subsidies in the core's order with the core's totals. */
data class MySubsidiesView(
    val rows: List<SubsidyRow> = emptyList(),
    val totals: SubsidyTotals = SubsidyTotals(),
    /** The core's totals by month of accrual and status, oldest month first. */
    val byMonth: List<SubsidyMonthRow> = emptyList(),
    /** Resolved cases whose subsidy has not arrived: estimates, newest first. */
    val estimates: List<SubsidyEstimateRow> = emptyList(),
)

data class SubsidiesUi(
    val loading: Boolean = false,
    val rows: List<SubsidyRow> = emptyList(),
    val totals: SubsidyTotals = SubsidyTotals(),
    val byMonth: List<SubsidyMonthRow> = emptyList(),
    val estimates: List<SubsidyEstimateRow> = emptyList(),
    val error: UiError? = null,
) {
    /** The months the core totals, oldest first (the screen's month tabs). */
    val months: List<String> get() = byMonth.map { it.month }.distinct()
}

class SubsidiesState(private val gateway: SubsidiesGateway) {
    private val _ui = MutableStateFlow(SubsidiesUi())
    val ui: StateFlow<SubsidiesUi> = _ui.asStateFlow()

    suspend fun refresh() {
        _ui.update { it.copy(loading = true) }
        val result = attempt { gateway.mySubsidies() }
        _ui.update { ui ->
            // shown as the core gives them: its order (overdue first, then newest), its sums
            val mine = result.getOrNull()
            ui.copy(
                loading = false,
                rows = mine?.rows ?: ui.rows,
                totals = mine?.totals ?: ui.totals,
                byMonth = mine?.byMonth ?: ui.byMonth,
                estimates = mine?.estimates ?: ui.estimates,
                error = result.uiError(),
            )
        }
    }
}
