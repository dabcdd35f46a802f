// The approver's inbox: escalation requests waiting for this user's decision.
// Refusing needs a comment. A decision is queued offline and the row leaves the
// inbox at once; if another approver decided first, the server's conflict
// lands in quarantine (shown on the sync screen) with the decision that stands.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

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
) {
    fun comment(escalationId: String): String = comments[escalationId].orEmpty()
}

class InboxState(private val gateway: InboxGateway) {
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
                )
            } else {
                it.copy(busyId = null, error = result.uiError())
            }
        }
        return result.isSuccess
    }
}
