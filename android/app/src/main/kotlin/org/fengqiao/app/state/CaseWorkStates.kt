// The case screen's state (案件办理): the whole file of one dispute and the
// work on it at the user's level — mediation sessions, an agreement with
// photos of the parties' signatures, follow-ups, closing — offered only as the
// core allows (its DisputeActions), and the case-file checklist: a returned
// file lists, in the core's Chinese, what is missing, and each missing paper is
// photographed here and filed under its item; once nothing is missing the file
// waits for the judicial office's review again. Escalation requests and
// re-grading stay on DisputeDetailState.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.fengqiao.core.CaseFileCheck
import org.fengqiao.core.ChecklistLine
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.DisputeActions
import org.fengqiao.core.DisputeFile
import org.fengqiao.core.NewAgreement
import org.fengqiao.core.NewFollowUp
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewSession
import org.fengqiao.core.Satisfaction

data class CaseWorkUi(
    val loading: Boolean = false,
    val file: DisputeFile? = null,
    val actions: DisputeActions? = null,
    val checklist: CaseFileCheck? = null,
    val busy: Boolean = false,
    val error: UiError? = null,
    /** What the last action queued (offline is enough), for the screen's confirmation. */
    val done: CaseAction? = null,
) {
    val canRecord: Boolean get() = actions?.record == true
    val canFollowUp: Boolean get() = actions?.followUp == true
    val canClose: Boolean get() = actions?.close == true
    /** The required papers still missing, in the core's words. */
    val missing: List<ChecklistLine> get() = checklist?.missing.orEmpty()
    /** The last review returned the file; its reasons in the core's Chinese. */
    val returnedReasons: List<String>
        get() = checklist?.lastReview?.takeIf { !it.review.passed }?.reasons.orEmpty()
    /** Returned and complete now: the file waits for the judicial office's review again. */
    val readyForReview: Boolean get() = checklist?.readyForReview == true
}

/** The work the case screen records. */
enum class CaseAction { SESSION, AGREEMENT, FOLLOW_UP, CLOSED, PAPER_FILED }

class CaseWorkState(private val gateway: CaseWorkGateway, val disputeId: String) {
    private val _ui = MutableStateFlow(CaseWorkUi())
    val ui: StateFlow<CaseWorkUi> = _ui.asStateFlow()

    /** Loads the whole file, the allowed actions and the checklist (offline). */
    suspend fun load() {
        _ui.update { it.copy(loading = true) }
        val result = attempt { Triple(gateway.file(disputeId), gateway.actions(disputeId), gateway.checklist(disputeId)) }
        _ui.update { ui ->
            val r = result.getOrNull()
            if (r == null) ui.copy(loading = false, error = result.uiError())
            else ui.copy(loading = false, file = r.first, actions = r.second, checklist = r.third, error = null)
        }
    }

    /** A mediation session (调解): what was said, whether the parties agreed, where. */
    suspend fun recordSession(record: String, agreed: Boolean, place: String, participants: List<String> = emptyList()): Boolean =
        act(CaseAction.SESSION) {
            gateway.recordSession(
                NewSession(disputeId = disputeId, record = record.trim(), agreed = agreed, place = place.trim(), heldAtMs = null, mediators = emptyList(), participants = participants),
            )
        }

    /**
     * The agreement (调解协议书) with photos of the parties' signatures: each
     * photo is attached to the dispute first, then the agreement names them.
     * A photo the core refuses stops the agreement (nothing half-recorded but
     * the photos already attached, which the file keeps).
     */
    suspend fun recordAgreement(terms: String, sumFen: Long, obligations: String, signatures: List<ChosenPhoto>): Boolean =
        act(CaseAction.AGREEMENT) {
            val hashes = signatures.map { p ->
                gateway.attachPhoto(NewPhoto(DISPUTE_KIND, disputeId, p.path, p.contentType, p.caption.ifBlank { "协议签字" })).sha256
            }
            gateway.recordAgreement(
                NewAgreement(disputeId = disputeId, terms = terms.trim(), sumFen = sumFen, obligations = obligations.trim(), signedAtMs = null, signaturePhotos = hashes),
            )
        }

    /** A follow-up (回访): whether the agreement is kept and how satisfied the parties are. */
    suspend fun recordFollowUp(fulfilled: Boolean, satisfaction: Satisfaction, note: String): Boolean =
        act(CaseAction.FOLLOW_UP) { gateway.recordFollowUp(NewFollowUp(disputeId, fulfilled, satisfaction, note.trim(), null)) }

    /** Closes the case (结案) with its outcome. */
    suspend fun close(outcome: ClosingOutcome, note: String): Boolean =
        act(CaseAction.CLOSED) { gateway.close(disputeId, outcome, note.trim()) }

    /** Files a photographed paper under a checklist item (e.g. one the review found missing). */
    suspend fun filePaper(item: String, photo: ChosenPhoto): Boolean =
        act(CaseAction.PAPER_FILED) {
            val label = _ui.value.checklist?.items?.firstOrNull { it.code == item }?.label ?: item
            gateway.attachCaseFilePhoto(NewPhoto(DISPUTE_KIND, disputeId, photo.path, photo.contentType, photo.caption.ifBlank { label }), item)
        }

    private suspend fun act(action: CaseAction, block: suspend () -> Unit): Boolean {
        if (_ui.value.busy) return false
        _ui.update { it.copy(busy = true, error = null, done = null) }
        val result = attempt { block() }
        _ui.update { it.copy(busy = false, error = result.uiError(), done = if (result.isSuccess) action else null) }
        if (result.isSuccess) load()
        return result.isSuccess
    }
}
