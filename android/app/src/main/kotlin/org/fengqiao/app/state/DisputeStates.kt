// The dispute screens' state: the list (the core's rows for the chosen filter,
// in the core's order: this class neither filters nor sorts) and a dispute's
// detail with its flow table and the escalation request form (逐级上报), which
// offers only the levels the core says the user may ask for and, to the judicial
// office of a town several offices serve, the core's list of offices to choose;
// and the re-grade form (重新定级/研判), offered when the core offers it and
// starting from the dispute's grade and analysis (the reason is the core's rule).
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/** The dispute lists the core offers; which disputes each holds is the core's rule. */
enum class DisputeFilter { ALL, MINE, OVERDUE }

data class DisputeListUi(
    val loading: Boolean = false,
    /** The core's rows for [filter], in the core's order. */
    val rows: List<DisputeRow> = emptyList(),
    val filter: DisputeFilter = DisputeFilter.ALL,
    val error: UiError? = null,
)

class DisputeListState(private val gateway: DisputesGateway) {
    private val _ui = MutableStateFlow(DisputeListUi())
    val ui: StateFlow<DisputeListUi> = _ui.asStateFlow()

    /** Shows the core's list for [filter]. */
    suspend fun setFilter(filter: DisputeFilter) {
        _ui.update { it.copy(filter = filter) }
        refresh()
    }

    suspend fun refresh() {
        val filter = _ui.value.filter
        _ui.update { it.copy(loading = true) }
        val result = attempt { gateway.disputes(filter) }
        _ui.update {
            // A list asked for before the filter changed is not shown.
            if (it.filter != filter) it
            else it.copy(loading = false, rows = result.getOrNull() ?: it.rows, error = result.uiError())
        }
    }
}

/** The escalation request as the user fills it in. */
data class EscalationForm(
    val toLevel: LadderLevel? = null,
    val reason: EscalationReasonCode? = null,
    val note: String = "",
    /** The judicial office chosen (an id of [DisputeDetail.offices]); sent only to the third level. */
    val office: String? = null,
)

/** A re-grade as the user fills it in: the new grade and analysis, and why. */
data class RegradeForm(val grade: DisputeGrade, val analysis: DisputeAnalysis, val reason: String = "")

data class DisputeDetailUi(
    val loading: Boolean = false,
    val detail: DisputeDetail? = null,
    val form: EscalationForm = EscalationForm(),
    val submitting: Boolean = false,
    val error: UiError? = null,
    /** The request was queued (offline is enough); the next sync sends it. */
    val requested: Boolean = false,
    /** The re-grade form, while open ([DisputeDetailState.startRegrade]). */
    val regrade: RegradeForm? = null,
    /** The re-grade was queued (offline is enough); the next sync sends it. */
    val regraded: Boolean = false,
) {
    /** Re-grading is offered when the core offers it. */
    val canRegrade: Boolean
        get() = detail?.mayRegrade == true && detail.analysis != null

    /** The form is offered only when the user may ask now and none is waiting. */
    val canRequest: Boolean
        get() = detail != null && detail.escalateTo.isNotEmpty() && detail.row.pendingEscalationTo == null && !detail.row.closed

    /** The offices to choose among: the core's list, when the form goes to the
     * judicial office and the core lists more than one (one is chosen for the user). */
    val officeChoice: List<OfficeOption>
        get() = if (form.toLevel == LadderLevel.JUDICIAL_OFFICE && detail != null && detail.offices.size > 1) detail.offices else emptyList()
}

class DisputeDetailState(private val gateway: DisputesGateway, val disputeId: String) {
    private val _ui = MutableStateFlow(DisputeDetailUi())
    val ui: StateFlow<DisputeDetailUi> = _ui.asStateFlow()

    suspend fun load() {
        _ui.update { it.copy(loading = true) }
        val result = attempt { gateway.detail(disputeId) }
        _ui.update { ui ->
            val d = result.getOrNull()
            // One level allowed (the usual case): choose it for the user.
            var form = if (d != null && ui.form.toLevel == null && d.escalateTo.size == 1) ui.form.copy(toLevel = d.escalateTo[0]) else ui.form
            // One office serving the town: choose it for the user.
            if (d != null && form.office == null && d.offices.size == 1) form = form.copy(office = d.offices[0].id)
            ui.copy(loading = false, detail = d ?: ui.detail, form = form, error = result.uiError())
        }
    }

    fun chooseLevel(level: LadderLevel) = _ui.update { it.copy(form = it.form.copy(toLevel = level), error = null) }
    /** Chooses the judicial office the request goes to (one of [DisputeDetailUi.officeChoice]). */
    fun chooseOffice(officeId: String) = _ui.update { it.copy(form = it.form.copy(office = officeId), error = null) }
    fun chooseReason(reason: EscalationReasonCode) = _ui.update { it.copy(form = it.form.copy(reason = reason), error = null) }
    fun setNote(note: String) = _ui.update { it.copy(form = it.form.copy(note = note)) }

    /** Opens the re-grade form with the dispute's current grade and analysis. */
    fun startRegrade() = _ui.update { ui ->
        val d = ui.detail
        if (!ui.canRegrade || d?.analysis == null) ui
        else ui.copy(regrade = RegradeForm(d.row.grade, d.analysis), regraded = false, error = null)
    }
    fun cancelRegrade() = _ui.update { it.copy(regrade = null, error = null) }
    fun setRegradeGrade(grade: DisputeGrade) = editRegrade { it.copy(grade = grade) }
    fun setRegradeDifficulty(difficulty: DisputeDifficulty) = editRegrade { it.copy(analysis = it.analysis.copy(difficulty = difficulty)) }
    fun setRegradeCause(cause: String) = editRegrade { it.copy(analysis = it.analysis.copy(cause = cause)) }
    fun setRegradeConsequences(consequences: String) = editRegrade { it.copy(analysis = it.analysis.copy(consequences = consequences)) }
    fun setRegradeReason(reason: String) = editRegrade { it.copy(reason = reason) }

    private fun editRegrade(change: (RegradeForm) -> RegradeForm) =
        _ui.update { ui -> ui.regrade?.let { ui.copy(regrade = change(it), error = null) } ?: ui }

    /**
     * Queues the re-grade; true on success (then closes the form and reloads the
     * detail). A refusal (no reason, nothing changed, a request waiting) shows
     * the core's code and message and keeps the form.
     */
    suspend fun regrade(): Boolean {
        val ui = _ui.value
        val f = ui.regrade
        if (ui.submitting || f == null || !ui.canRegrade) return false
        _ui.update { it.copy(submitting = true, error = null) }
        val result = attempt { gateway.regrade(disputeId, f.grade, f.analysis, f.reason.trim()) }
        _ui.update { it.copy(submitting = false, error = result.uiError(), regraded = result.isSuccess) }
        if (result.isSuccess) {
            _ui.update { it.copy(regrade = null) }
            load()
        }
        return result.isSuccess
    }

    fun validate(ui: DisputeDetailUi = _ui.value): UiError? {
        val f = ui.form
        val allowed = ui.detail?.escalateTo.orEmpty()
        return when {
            f.toLevel == null || f.toLevel !in allowed -> UiError.local(LocalCodes.LEVEL_REQUIRED)
            f.reason == null -> UiError.local(LocalCodes.REASON_REQUIRED)
            f.reason == EscalationReasonCode.OTHER && f.note.isBlank() -> UiError.local(LocalCodes.NOTE_REQUIRED)
            else -> null
        }
    }

    /** Queues the escalation request; true on success (then reloads the detail). */
    suspend fun requestEscalation(): Boolean {
        val ui = _ui.value
        if (ui.submitting || !ui.canRequest) return false
        validate(ui)?.let { e -> _ui.update { it.copy(error = e) }; return false }
        _ui.update { it.copy(submitting = true, error = null) }
        val f = ui.form
        // The office goes with a move to the judicial office only; with several
        // serving the town and none chosen, the core refuses (office_choice_required).
        val office = f.office.takeIf { f.toLevel == LadderLevel.JUDICIAL_OFFICE }
        val result = attempt { gateway.requestEscalation(disputeId, f.toLevel!!, f.reason!!, f.note.trim(), office) }
        _ui.update { it.copy(submitting = false, error = result.uiError(), requested = result.isSuccess) }
        if (result.isSuccess) {
            _ui.update { it.copy(form = EscalationForm()) }
            load()
        }
        return result.isSuccess
    }
}
