// The lock screen's state: the signed-in user's data stays closed until their
// PIN (checked offline by the core) or the platform's biometric check opens
// it. The app locks when it goes to the background. Wrong PINs count down in
// the core; at zero only the password (an online login) opens the phone.
// Plain Kotlin (compiled and tested on the JVM by tests/kotlin-jvm.sh).
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.LockStatus

data class LockUi(
    /** The user set a PIN on this phone. */
    val pinSet: Boolean = false,
    /** Their data is closed: show the lock screen. */
    val locked: Boolean = false,
    /** The user allowed biometrics to open it. */
    val biometricAllowed: Boolean = false,
    /** The PIN being typed (cleared after each attempt). */
    val pin: String = "",
    /** PIN attempts left before only the password opens the phone. */
    val attemptsLeft: UInt = 10u,
    /** Seconds before the next PIN attempt is accepted (0: now). */
    val retryAfterSecs: ULong = 0uL,
    val busy: Boolean = false,
    val error: UiError? = null,
) {
    /** No PIN attempts left: the user must sign in with their password (online). */
    val passwordRequired: Boolean get() = locked && attemptsLeft == 0u
    /** What a PIN looks like is the core's rule (it answers `invalid_input` without spending an attempt). */
    val canSubmit: Boolean get() = locked && !busy && !passwordRequired && pin.isNotEmpty()
    /** Offer the biometric prompt (the platform's check, then the core's consent). */
    val offerBiometric: Boolean get() = locked && biometricAllowed && !busy && !passwordRequired

    companion object {
        fun of(s: LockStatus) = LockUi(
            pinSet = s.pinSet,
            locked = s.locked,
            biometricAllowed = s.biometricAllowed,
            attemptsLeft = s.attemptsLeft,
            retryAfterSecs = s.retryAfterSecs,
        )
    }
}

class LockState(private val gateway: LockGateway) {
    private val _ui = MutableStateFlow(LockUi())
    val ui: StateFlow<LockUi> = _ui.asStateFlow()

    /** Reads the core's lock status (at start, after a login, after changes). */
    suspend fun refresh() {
        val result = attempt { gateway.lockStatus() }
        _ui.update { old ->
            result.getOrNull()?.let { LockUi.of(it).copy(pin = old.pin) } ?: old.copy(error = result.uiError())
        }
    }

    /** Keeps digits only (a numeric keypad). */
    fun onPin(value: String) = _ui.update { it.copy(pin = value.filter(Char::isDigit), error = null) }

    /** Closes the data now (the app went to the background). Safe from any thread. */
    fun lockNow() {
        gateway.lock()
        _ui.update { it.copy(locked = it.pinSet, pin = "", error = null) }
    }

    /** Tries the typed PIN; true when the data is open. The PIN is cleared either way. */
    suspend fun submitPin(): Boolean {
        val now = _ui.value
        if (now.busy || now.pin.isEmpty()) return false
        _ui.update { it.copy(busy = true, error = null) }
        val result = try {
            attempt { gateway.unlock(now.pin) }
        } finally {
            _ui.update { it.copy(busy = false, pin = "") }
        }
        return settle(result)
    }

    /**
     * The platform's biometric result: a passed check is handed to the core
     * (which opens only if the user allowed biometrics); a failed or cancelled
     * one leaves the lock screen as it was, with the PIN still possible.
     */
    suspend fun onBiometricResult(verified: Boolean): Boolean {
        if (!verified) {
            _ui.update { it.copy(error = UiError.local(LocalCodes.BIOMETRIC_FAILED)) }
            return false
        }
        _ui.update { it.copy(busy = true, error = null) }
        val result = try {
            attempt { gateway.unlockWithBiometric(true) }
        } finally {
            _ui.update { it.copy(busy = false) }
        }
        return settle(result)
    }

    /** Sets (or changes) the PIN from the settings screen; the phone must be open. */
    /** The core checks the PIN's form (`invalid_input` with its message). */
    suspend fun setPin(pin: String, allowBiometric: Boolean): Boolean {
        val result = attempt { gateway.setPin(pin, allowBiometric) }
        // A refresh would clear the refusal: only after a success.
        if (result.isSuccess) refresh() else _ui.update { it.copy(error = result.uiError()) }
        return result.isSuccess
    }

    /** Removes the PIN: the phone no longer locks. */
    suspend fun clearPin(): Boolean {
        val result = attempt { gateway.clearPin() }
        if (result.isSuccess) refresh() else _ui.update { it.copy(error = result.uiError()) }
        return result.isSuccess
    }

    private suspend fun settle(result: Result<Unit>): Boolean {
        val wrong = result.exceptionOrNull() as? FengqiaoException.WrongPin
        if (result.isSuccess) {
            refresh()
        } else {
            _ui.update {
                it.copy(
                    error = result.uiError(),
                    attemptsLeft = wrong?.attemptsLeft ?: it.attemptsLeft,
                    retryAfterSecs = wrong?.retryAfterSecs ?: it.retryAfterSecs,
                )
            }
        }
        return result.isSuccess
    }
}
