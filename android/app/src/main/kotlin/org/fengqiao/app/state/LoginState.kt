// The login screen's state. The password is kept only until the attempt ends.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.fengqiao.core.User

data class LoginUi(
    val username: String = "",
    val password: String = "",
    val busy: Boolean = false,
    val error: UiError? = null,
    /** The signed-in user (from the cached session at start, offline). */
    val user: User? = null,
) {
    val canSubmit: Boolean get() = !busy && username.isNotBlank() && password.isNotEmpty()
    val signedIn: Boolean get() = user != null
    /**
     * Signing out was refused because the phone is locked (the core's `locked`):
     * unlock it first, or sign out with the user's password ([LoginState.logoutWithPassword]).
     */
    val logoutNeedsPassword: Boolean get() = signedIn && error?.code == "locked"
}

class LoginState(private val gateway: SessionGateway) {
    private val _ui = MutableStateFlow(LoginUi(user = gateway.currentUser()))
    val ui: StateFlow<LoginUi> = _ui.asStateFlow()

    fun onUsername(value: String) = _ui.update { it.copy(username = value.trim(), error = null) }
    fun onPassword(value: String) = _ui.update { it.copy(password = value, error = null) }

    /** Signs in; true on success. The password is cleared either way. */
    suspend fun submit(): Boolean {
        val now = _ui.value
        if (now.busy) return false
        if (now.username.isBlank() || now.password.isEmpty()) {
            _ui.update { it.copy(error = UiError.local(LocalCodes.MISSING_CREDENTIALS)) }
            return false
        }
        _ui.update { it.copy(busy = true, error = null) }
        val result = try {
            attempt { gateway.login(now.username, now.password) }
        } finally {
            _ui.update { it.copy(busy = false, password = "") }
        }
        _ui.update { it.copy(user = result.getOrNull() ?: it.user, error = result.uiError()) }
        return result.isSuccess
    }

    /**
     * Signs out (revokes on the server when reachable). Queued work stays on the phone for this user.
     * A locked phone refuses (`locked`, see [LoginUi.logoutNeedsPassword]): nobody holding it signs its user out.
     */
    suspend fun logout() {
        _ui.update { it.copy(busy = true, error = null) }
        val result = attempt { gateway.logout() }
        // Even offline the local session is forgotten by the core.
        _ui.update { it.copy(busy = false, user = gateway.currentUser(), error = result.uiError()?.takeIf { e -> !e.transient }) }
    }

    /**
     * Signs a locked phone out with the password typed into [LoginUi.password] (checked by the
     * server, online); true on success. The password is cleared either way.
     */
    suspend fun logoutWithPassword(): Boolean {
        val now = _ui.value
        if (now.busy) return false
        if (now.password.isEmpty()) {
            _ui.update { it.copy(error = UiError.local(LocalCodes.MISSING_CREDENTIALS)) }
            return false
        }
        _ui.update { it.copy(busy = true, error = null) }
        val result = try {
            attempt { gateway.logoutWithPassword(now.password) }
        } finally {
            _ui.update { it.copy(busy = false, password = "") }
        }
        _ui.update { it.copy(user = gateway.currentUser(), error = result.uiError()) }
        return result.isSuccess
    }

    /** The session ended elsewhere (e.g. sync said `session_expired`): ask for the password again. */
    fun sessionExpired() = _ui.update { it.copy(user = null, error = UiError.local("session_expired")) }
}
