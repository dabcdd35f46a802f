// The approver's inbox: escalation requests waiting for this user's decision.
// Opening a request shows the whole case first (one core call: parties, kind,
// analysis, requester, reason, every session and agreement, photos, the flow
// table and the deadline) with the core's comment templates. Refusing needs a
// comment (the core's rule). A decision is queued offline and the row leaves
// the inbox at once; if another approver decided first, the core settles it
// into the history of my decisions with the decision that stands (who, what,
// when) — not a sync error.
package org.fengqiao.app.state

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import org.fengqiao.core.FieldClient
import org.fengqiao.core.InboxCase
import org.fengqiao.core.MyDecision

data class InboxUi(
    val loading: Boolean = false,
    val rows: List<InboxRow> = emptyList(),
    /** The comment typed for each request, by escalation id. */
    val comments: Map<String, String> = emptyMap(),
    /** The request being decided now. */
    val busyId: String? = null,
    val error: UiError? = null,
    /** Decisions made in this session, by escalation id (true: approved). */
    val decided: Map<String, Boolean> = emptyMap(),
    /** The request opened: its whole case, as the core gives it. */
    val case: InboxCase? = null,
    /** My decisions, newest first (the core's), each lost one with the decision that stands. */
    val history: List<MyDecision> = emptyList(),
) {
    fun comment(escalationId: String): String = comments[escalationId].orEmpty()
}

/** The approver's reads beyond the list: the whole case and my decisions. */
interface ApprovalsGateway {
    suspend fun case(escalationId: String): InboxCase
    suspend fun history(): List<MyDecision>
}

/** [ApprovalsGateway] over the real core, off the main thread. */
class CoreApprovals(private val client: FieldClient) : ApprovalsGateway {
    override suspend fun case(escalationId: String): InboxCase = withContext(Dispatchers.IO) { client.inboxCase(escalationId) }
    override suspend fun history(): List<MyDecision> = withContext(Dispatchers.IO) { client.myDecisions() }
}

class InboxState(private val gateway: InboxGateway, private val approvals: ApprovalsGateway? = null) {
    private val _ui = MutableStateFlow(InboxUi())
    val ui: StateFlow<InboxUi> = _ui.asStateFlow()

    suspend fun refresh() {
        _ui.update { it.copy(loading = true) }
        val result = attempt { gateway.inbox() }
        _ui.update { ui ->
            // the core's order (most severe, then oldest): the domain's rule, not re-sorted here
            val rows = result.getOrNull()?.filter { it.escalationId !in ui.decided } ?: ui.rows
            ui.copy(loading = false, rows = rows, error = result.uiError())
        }
        loadHistory()
    }

    /** Opens a request: the whole case before a decision. */
    suspend fun open(escalationId: String) {
        val a = approvals ?: return
        val result = attempt { a.case(escalationId) }
        _ui.update { it.copy(case = result.getOrNull() ?: it.case, error = result.uiError()) }
    }

    fun closeCase() = _ui.update { it.copy(case = null) }

    /** Puts one of the core's comment templates in the comment box. */
    fun useTemplate(escalationId: String, template: String) = setComment(escalationId, template)

    /** Reloads my decisions. */
    suspend fun loadHistory() {
        val a = approvals ?: return
        val result = attempt { a.history() }
        _ui.update { it.copy(history = result.getOrNull() ?: it.history, error = it.error ?: result.uiError()) }
    }

    fun setComment(escalationId: String, text: String) =
        _ui.update { it.copy(comments = it.comments + (escalationId to text), error = null) }

    suspend fun approve(escalationId: String): Boolean = decide(escalationId, approve = true)
    suspend fun refuse(escalationId: String): Boolean = decide(escalationId, approve = false)

    private suspend fun decide(escalationId: String, approve: Boolean): Boolean {
        val ui = _ui.value
        if (ui.busyId != null) return false
        // Whether a refusal needs a comment is the domain's rule: the core refuses
        // it offline with a typed error, shown like any other.
        val comment = ui.comment(escalationId).trim()
        _ui.update { it.copy(busyId = escalationId, error = null) }
        val result = attempt { gateway.decide(escalationId, approve, comment) }
        _ui.update {
            if (result.isSuccess) {
                it.copy(
                    busyId = null,
                    rows = it.rows.filter { r -> r.escalationId != escalationId },
                    comments = it.comments - escalationId,
                    decided = it.decided + (escalationId to approve),
                    case = if (it.case?.escalation?.id == escalationId) null else it.case,
                )
            } else {
                it.copy(busyId = null, error = result.uiError())
            }
        }
        if (result.isSuccess) loadHistory()
        return result.isSuccess
    }
}
