// The judicial office's case-file review (案卷评查) on the phone, through the
// core like every other operation: the queue (the core's: which cases, their
// order, the checklist and the missing items in words), the review form (pass,
// or return with reasons; grade and difficulty corrected with a reason), and a
// case's reviews with their reasons in words (what a mediator reads of a
// returned file). Whether a review is allowed is the core's answer, shown as
// its typed error.
package org.fengqiao.app.state

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import org.fengqiao.core.CaseReview
import org.fengqiao.core.Difficulty
import org.fengqiao.core.FieldClient
import org.fengqiao.core.Grade
import org.fengqiao.core.NewReview
import org.fengqiao.core.ReviewItem
import org.fengqiao.core.ReviewView

/** The core's review calls. */
interface ReviewGateway {
    suspend fun queue(): List<ReviewItem>
    suspend fun review(review: NewReview): CaseReview
    suspend fun reviews(disputeId: String): List<ReviewView>
}

/** [ReviewGateway] over the real core, off the main thread. */
class CoreReviews(private val client: FieldClient) : ReviewGateway {
    override suspend fun queue(): List<ReviewItem> = withContext(Dispatchers.IO) { client.reviewQueue() }
    override suspend fun review(review: NewReview): CaseReview = withContext(Dispatchers.IO) { client.reviewCaseFile(review) }
    override suspend fun reviews(disputeId: String): List<ReviewView> = withContext(Dispatchers.IO) { client.caseReviews(disputeId) }
}

/** The review form as the reviewer fills it in. */
data class ReviewForm(
    val disputeId: String,
    val passed: Boolean,
    val score: Int = 85,
    /** Reasons to return it, one a line. */
    val reasons: String = "",
    /** The corrected grade (null: confirmed as recorded). */
    val grade: Grade? = null,
    /** The corrected difficulty (null: confirmed as recorded). */
    val difficulty: Difficulty? = null,
    val correctionReason: String = "",
)

data class ReviewUi(
    val loading: Boolean = false,
    /** The core's queue, in its order. */
    val queue: List<ReviewItem> = emptyList(),
    val form: ReviewForm? = null,
    val busy: Boolean = false,
    val error: UiError? = null,
    /** Reviews made in this session (dispute ids). */
    val done: List<String> = emptyList(),
)

class ReviewState(private val gateway: ReviewGateway) {
    private val _ui = MutableStateFlow(ReviewUi())
    val ui: StateFlow<ReviewUi> = _ui.asStateFlow()

    suspend fun refresh() {
        _ui.update { it.copy(loading = true) }
        val result = attempt { gateway.queue() }
        _ui.update { ui -> ui.copy(loading = false, queue = result.getOrNull() ?: ui.queue, error = result.uiError()) }
    }

    /** Opens the form for a case of the queue: pass offered only when nothing is missing (the core's list). */
    fun open(disputeId: String) {
        val item = _ui.value.queue.firstOrNull { it.dispute.dispute.id == disputeId } ?: return
        _ui.update { it.copy(form = ReviewForm(disputeId, passed = item.missing.isEmpty()), error = null) }
    }

    fun close() = _ui.update { it.copy(form = null) }
    fun setPassed(passed: Boolean) = edit { it.copy(passed = passed) }
    fun setScore(score: Int) = edit { it.copy(score = score) }
    fun setReasons(text: String) = edit { it.copy(reasons = text) }
    fun setGrade(grade: Grade?) = edit { it.copy(grade = grade) }
    fun setDifficulty(difficulty: Difficulty?) = edit { it.copy(difficulty = difficulty) }
    fun setCorrectionReason(text: String) = edit { it.copy(correctionReason = text) }

    private fun edit(change: (ReviewForm) -> ReviewForm) =
        _ui.update { ui -> ui.form?.let { ui.copy(form = change(it), error = null) } ?: ui }

    /** Sends the form to the core (queued offline); the core's refusal is shown as its typed error. */
    suspend fun submit(): Boolean {
        val form = _ui.value.form ?: return false
        if (_ui.value.busy) return false
        _ui.update { it.copy(busy = true, error = null) }
        val review = NewReview(
            disputeId = form.disputeId,
            score = form.score.coerceIn(0, 100).toUByte(),
            passed = form.passed,
            reasons = form.reasons.lines().map { it.trim() }.filter { it.isNotEmpty() },
            reviewedGrade = form.grade,
            reviewedDifficulty = form.difficulty,
            correctionReason = form.correctionReason,
        )
        val result = attempt { gateway.review(review) }
        if (result.isFailure) {
            _ui.update { it.copy(busy = false, error = result.uiError()) }
            return false
        }
        _ui.update { it.copy(busy = false, form = null, done = it.done + form.disputeId) }
        refresh()
        return true
    }
}
