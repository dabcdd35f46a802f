// The field screens' state beside the cases: finding a household offline
// (name, household code or pinyin initials; its standing, no details), a
// cadre's work on a household under the negative list (record a violation with
// its correction period shown, restore the household), the village's screening
// with the period it is due for, and a legal advisor's consultations. What a
// search finds, in which order, which items exist and who may act are the
// core's; these classes hold the form and show the core's answers.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.fengqiao.core.ConsultationItem
import org.fengqiao.core.ConsultationOutcome
import org.fengqiao.core.FocusArea
import org.fengqiao.core.HouseholdMatch
import org.fengqiao.core.NegativeItem
import org.fengqiao.core.NewConsultation
import org.fengqiao.core.NewScreening
import org.fengqiao.core.NewViolation
import org.fengqiao.core.Satisfaction
import org.fengqiao.core.ScreeningDue
import org.fengqiao.core.ViolationItem

data class HouseholdSearchUi(
    val query: String = "",
    /** The core's matches, best first, each with its standing. */
    val results: List<HouseholdMatch> = emptyList(),
    val error: UiError? = null,
)

class HouseholdSearchState(private val gateway: HouseholdSearchGateway, private val limit: UInt = 100u) {
    private val _ui = MutableStateFlow(HouseholdSearchUi())
    val ui: StateFlow<HouseholdSearchUi> = _ui.asStateFlow()

    /** Searches as the user types; an answer to an older query is not shown. */
    suspend fun setQuery(query: String) {
        _ui.update { it.copy(query = query) }
        val result = attempt { gateway.search(query, limit) }
        _ui.update { if (it.query != query) it else it.copy(results = result.getOrNull() ?: it.results, error = result.uiError()) }
    }
}

data class HouseholdPreventUi(
    /** The negative list in force in the household's village, each with its correction period. */
    val items: List<NegativeItem> = emptyList(),
    /** The household's violations (cadres; null when the core does not show them to this user). */
    val violations: List<ViolationItem>? = null,
    val itemCode: String? = null,
    val note: String = "",
    val busy: Boolean = false,
    val error: UiError? = null,
) {
    /** The chosen item's days to correct before sanctions apply, shown before recording. */
    val correctionDays: UInt? get() = items.firstOrNull { it.code == itemCode }?.correctionDays
}

/** A cadre's work on one household under the negative list (负面清单). */
class HouseholdPreventState(private val gateway: PreventGateway, val householdId: String) {
    private val _ui = MutableStateFlow(HouseholdPreventUi())
    val ui: StateFlow<HouseholdPreventUi> = _ui.asStateFlow()

    suspend fun load() {
        val items = attempt { gateway.negativeList(householdId) }
        // a user the core does not show violations to (a group leader) gets none, not an error
        val violations = attempt { gateway.violations(householdId) }
        _ui.update {
            it.copy(items = items.getOrNull() ?: it.items, violations = violations.getOrNull(), error = items.uiError())
        }
    }

    fun chooseItem(code: String) = _ui.update { it.copy(itemCode = code, error = null) }
    fun setNote(text: String) = _ui.update { it.copy(note = text) }

    /** Records the violation offline; the core sets the sanctions and when they apply. */
    suspend fun record(evidence: List<String> = emptyList()): Boolean {
        val ui = _ui.value
        if (ui.busy) return false
        _ui.update { it.copy(busy = true, error = null) }
        val result = attempt { gateway.recordViolation(NewViolation(householdId, ui.itemCode.orEmpty(), ui.note.trim(), evidence)) }
        _ui.update { it.copy(busy = false, error = result.uiError(), note = if (result.isSuccess) "" else it.note) }
        if (result.isSuccess) load()
        return result.isSuccess
    }

    /** Restores the household after correction (恢复正常服务; the village's secretaries). */
    suspend fun restore(violationId: String, note: String): Boolean {
        if (_ui.value.busy) return false
        _ui.update { it.copy(busy = true, error = null) }
        val result = attempt { gateway.restore(violationId, note.trim()) }
        _ui.update { it.copy(busy = false, error = result.uiError()) }
        if (result.isSuccess) load()
        return result.isSuccess
    }
}

data class ScreeningUi(
    /** The village and period still owing a screening (none: filed, or not the user's to file). */
    val due: ScreeningDue? = null,
    val focusAreas: List<FocusArea> = emptyList(),
    val chosenAreas: Set<String> = emptySet(),
    val hazards: List<String> = emptyList(),
    val note: String = "",
    val busy: Boolean = false,
    val error: UiError? = null,
    /** The period just filed. */
    val filedPeriod: String? = null,
)

/** The village's screening (矛盾纠纷排查) for the period the core says is due. */
class ScreeningState(private val gateway: PreventGateway) {
    private val _ui = MutableStateFlow(ScreeningUi())
    val ui: StateFlow<ScreeningUi> = _ui.asStateFlow()

    suspend fun load() {
        val due = attempt { gateway.screeningDue() }
        _ui.update { it.copy(due = due.getOrNull(), focusAreas = gateway.focusAreas(), error = due.uiError()) }
    }

    fun toggleArea(code: String) =
        _ui.update { it.copy(chosenAreas = if (code in it.chosenAreas) it.chosenAreas - code else it.chosenAreas + code) }
    fun addHazard(text: String) = _ui.update { if (text.isBlank()) it else it.copy(hazards = it.hazards + text.trim()) }
    fun setNote(text: String) = _ui.update { it.copy(note = text) }

    /** Files the screening for the due period, offline. */
    suspend fun file(): Boolean {
        val ui = _ui.value
        val due = ui.due ?: return false
        if (ui.busy) return false
        _ui.update { it.copy(busy = true, error = null) }
        val result = attempt {
            gateway.fileScreening(
                NewScreening(villageId = due.villageId, period = due.period, hazards = ui.hazards, focusAreas = ui.chosenAreas.toList(), newDisputes = emptyList(), note = ui.note.trim()),
            )
        }
        _ui.update { it.copy(busy = false, error = result.uiError(), filedPeriod = result.getOrNull()?.period ?: it.filedPeriod) }
        if (result.isSuccess) load()
        return result.isSuccess
    }
}

data class ConsultationUi(
    val mine: List<ConsultationItem> = emptyList(),
    val question: String = "",
    val answer: String = "",
    val outcome: ConsultationOutcome? = null,
    val satisfaction: Satisfaction? = null,
    val busy: Boolean = false,
    val error: UiError? = null,
)

/** A legal advisor's consultations (法律咨询): the log form and the list. */
class ConsultationState(private val gateway: ConsultationGateway) {
    private val _ui = MutableStateFlow(ConsultationUi())
    val ui: StateFlow<ConsultationUi> = _ui.asStateFlow()

    suspend fun load() {
        val mine = attempt { gateway.mine() }
        _ui.update { it.copy(mine = mine.getOrNull() ?: it.mine, error = mine.uiError()) }
    }

    fun setQuestion(text: String) = _ui.update { it.copy(question = text, error = null) }
    fun setAnswer(text: String) = _ui.update { it.copy(answer = text, error = null) }
    fun chooseOutcome(o: ConsultationOutcome) = _ui.update { it.copy(outcome = o, error = null) }
    fun chooseSatisfaction(s: Satisfaction) = _ui.update { it.copy(satisfaction = s, error = null) }

    /** Logs the consultation offline in the advisor's village; the form empties on success. */
    suspend fun record(): Boolean {
        val ui = _ui.value
        if (ui.busy) return false
        val outcome = ui.outcome ?: run { _ui.update { it.copy(error = UiError.local(LocalCodes.OUTCOME_REQUIRED)) }; return false }
        val satisfaction = ui.satisfaction ?: run { _ui.update { it.copy(error = UiError.local(LocalCodes.SATISFACTION_REQUIRED)) }; return false }
        val village = gateway.currentUser()?.roles?.firstOrNull()?.unitId.orEmpty()
        _ui.update { it.copy(busy = true, error = null) }
        val result = attempt { gateway.record(NewConsultation(village, ui.question.trim(), ui.answer.trim(), outcome, satisfaction, null)) }
        _ui.update {
            if (result.isSuccess) it.copy(busy = false, question = "", answer = "", outcome = null, satisfaction = null)
            else it.copy(busy = false, error = result.uiError())
        }
        if (result.isSuccess) load()
        return result.isSuccess
    }
}
