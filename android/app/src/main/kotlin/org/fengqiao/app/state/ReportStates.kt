// The report screen's state (矛盾纠纷登记): a dispute reported from scratch or
// from a lead found on a visit (the core drafts it), with its kind, parties,
// the three-axis analysis, grade and photos from the camera or the gallery,
// each with its caption. The case number comes from the core at once, offline;
// the core says when few numbers are left and the screen shows its warning.
// Every rule (fields, who may report where, the number) is the core's.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.fengqiao.core.Analysis
import org.fengqiao.core.CaseNumberStock
import org.fengqiao.core.Difficulty
import org.fengqiao.core.Dispute
import org.fengqiao.core.DisputeKind
import org.fengqiao.core.Grade
import org.fengqiao.core.NewDispute
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.Party

/** The record kind photos of a dispute are attached to, as the bindings name it. */
const val DISPUTE_KIND = "dispute"

/** Where a photo came from; both end as a file the core copies and encrypts. */
enum class PhotoSource { CAMERA, GALLERY }

/** A photo chosen for a record, waiting in a file until the record is saved. */
data class ChosenPhoto(val path: String, val source: PhotoSource, val caption: String = "", val contentType: String = "image/jpeg")

data class ReportUi(
    val kinds: List<DisputeKind> = emptyList(),
    val kind: String? = null,
    /** The unit where it arose: the user's own unit unless the draft says otherwise. */
    val originUnit: String? = null,
    val parties: List<Party> = emptyList(),
    val partyDraft: String = "",
    val summary: String = "",
    val grade: Grade = Grade.GENERAL,
    val cause: String = "",
    val consequences: String = "",
    val difficulty: Difficulty = Difficulty.LOW,
    /** The lead the report comes from, if any. */
    val leadId: String? = null,
    val foundAtMs: Long? = null,
    val photos: List<ChosenPhoto> = emptyList(),
    /** The case numbers left offline and the core's warning when few are. */
    val stock: CaseNumberStock? = null,
    val saving: Boolean = false,
    val error: UiError? = null,
    /** Reported (offline is enough): its case number is shown at once. */
    val reported: Dispute? = null,
    /** Photos that could not be attached to the reported dispute. */
    val photoErrors: List<UiError> = emptyList(),
) {
    /** The parties the report will carry: the list plus a typed, not yet added one. */
    val allParties: List<Party> get() = (parties + Party(partyDraft.trim(), null, null)).filter { it.name.isNotBlank() }
    /** The core's warning about the case numbers left, when it gives one. */
    val stockWarning: String? get() = stock?.takeIf { it.low }?.warning
}

class ReportDisputeState(private val gateway: ReportGateway) {
    private val _ui = MutableStateFlow(ReportUi())
    val ui: StateFlow<ReportUi> = _ui.asStateFlow()

    /** Loads the kinds, the user's unit and the case numbers left (offline). */
    suspend fun load() {
        val kinds = gateway.disputeKinds()
        val unit = gateway.currentUser()?.roles?.firstOrNull()?.unitId
        val stock = attempt { gateway.caseNumberStock() }
        _ui.update {
            it.copy(kinds = kinds, originUnit = it.originUnit ?: unit, stock = stock.getOrNull() ?: it.stock, error = stock.uiError())
        }
    }

    /** Fills the form with the core's draft from a visit's lead. */
    suspend fun startFromLead(visitId: String, leadId: String): Boolean {
        val draft = attempt { gateway.draftFromLead(visitId, leadId) }
        val d = draft.getOrNull()
        _ui.update { ui ->
            if (d == null) ui.copy(error = draft.uiError())
            else ui.copy(
                kind = d.kind.ifBlank { ui.kind },
                originUnit = d.originUnit,
                parties = d.parties,
                summary = d.summary,
                grade = d.grade,
                cause = d.analysis.cause,
                consequences = d.analysis.consequences,
                difficulty = d.analysis.difficulty,
                leadId = d.leadId,
                foundAtMs = d.foundAtMs,
                error = null,
            )
        }
        return d != null
    }

    fun chooseKind(code: String) = _ui.update { it.copy(kind = code, error = null) }
    fun setSummary(text: String) = _ui.update { it.copy(summary = text, error = null) }
    fun setPartyDraft(text: String) = _ui.update { it.copy(partyDraft = text) }
    /** Adds the typed party; [householdId] links a household found with the search. */
    fun addParty(householdId: String? = null) = _ui.update {
        val name = it.partyDraft.trim()
        if (name.isEmpty()) it else it.copy(parties = it.parties + Party(name, householdId, null), partyDraft = "", error = null)
    }
    fun removeParty(index: Int) = _ui.update { it.copy(parties = it.parties.filterIndexed { i, _ -> i != index }) }
    fun chooseGrade(grade: Grade) = _ui.update { it.copy(grade = grade, error = null) }
    fun setCause(text: String) = _ui.update { it.copy(cause = text, error = null) }
    fun setConsequences(text: String) = _ui.update { it.copy(consequences = text, error = null) }
    fun chooseDifficulty(d: Difficulty) = _ui.update { it.copy(difficulty = d, error = null) }
    fun addPhoto(photo: ChosenPhoto) = _ui.update { it.copy(photos = it.photos + photo) }
    fun setCaption(index: Int, caption: String) =
        _ui.update { it.copy(photos = it.photos.mapIndexed { i, p -> if (i == index) p.copy(caption = caption) else p }) }
    fun removePhoto(index: Int) = _ui.update { it.copy(photos = it.photos.filterIndexed { i, _ -> i != index }) }

    /**
     * Reports the dispute offline (its case number taken at once), then
     * attaches each photo; a photo that fails does not undo the report (listed
     * in `photoErrors`). The core checks every field; its refusal is shown.
     */
    suspend fun report(): Dispute? {
        val ui = _ui.value
        if (ui.saving || ui.reported != null) return ui.reported
        _ui.update { it.copy(saving = true, error = null) }
        val result = attempt {
            gateway.report(
                NewDispute(
                    kind = ui.kind.orEmpty(),
                    originUnit = ui.originUnit.orEmpty(),
                    parties = ui.allParties,
                    summary = ui.summary.trim(),
                    grade = ui.grade,
                    analysis = Analysis(ui.cause.trim(), ui.consequences.trim(), ui.difficulty),
                    foundAtMs = ui.foundAtMs,
                    leadId = ui.leadId,
                    level = null,
                ),
            )
        }
        val d = result.getOrNull()
        if (d == null) {
            _ui.update { it.copy(saving = false, error = result.uiError()) }
            return null
        }
        val photoErrors = ui.photos.mapNotNull { p ->
            attempt { gateway.attachPhoto(NewPhoto(DISPUTE_KIND, d.id, p.path, p.contentType, p.caption)) }.uiError()
        }
        val stock = attempt { gateway.caseNumberStock() }.getOrNull()
        _ui.update { it.copy(saving = false, reported = d, photoErrors = photoErrors, stock = stock ?: it.stock) }
        return d
    }
}
