// What the screens show when something fails: a stable code (mapped to a
// localized string by the UI), the core's readable message, and whether a
// retry later may help. Plain Kotlin: no Android imports (compiled and tested
// on the JVM by tests/kotlin-jvm.sh).
package org.fengqiao.app.state

import kotlin.coroutines.cancellation.CancellationException
import org.fengqiao.core.FengqiaoException

/** A failure as a screen shows it. `message` never carries personal data (the core's messages do not). */
data class UiError(val code: String, val message: String = "", val transient: Boolean = false) {
    companion object {
        /** A check made by the screen before calling the core (e.g. `household_required`). */
        fun local(code: String) = UiError(code, code, transient = false)

        /** The core's typed error, or `internal` for anything else. */
        fun of(t: Throwable): UiError = when (t) {
            is FengqiaoException -> UiError(t.code(), t.detail(), t.isTransient())
            else -> UiError("internal", t.javaClass.simpleName, transient = false)
        }
    }

    /** The user must sign in (again) before this can work (a revoked device forgot the user's data). */
    val needsLogin: Boolean get() = code == "not_logged_in" || code == "session_expired" || code == "device_revoked"

    /** The phone is locked: show the lock screen. */
    val needsUnlock: Boolean get() = code == "locked"
}

/** Codes of the checks the screens make themselves (mapped to strings like the core's codes). */
object LocalCodes {
    const val MISSING_CREDENTIALS = "missing_credentials"
    const val HOUSEHOLD_REQUIRED = "household_required"
    const val LEAD_REQUIRED = "lead_required"
    const val LEVEL_REQUIRED = "level_required"
    const val REASON_REQUIRED = "reason_required"
    const val NOTE_REQUIRED = "note_required"
    const val BUSY = "busy"
    /** A consultation's outcome was not chosen. */
    const val OUTCOME_REQUIRED = "outcome_required"
    /** A consultation's satisfaction was not chosen. */
    const val SATISFACTION_REQUIRED = "satisfaction_required"
    /** The platform's biometric check failed or was cancelled. */
    const val BIOMETRIC_FAILED = "biometric_failed"
}

/**
 * Runs a call to the core, turning its failure into a [UiError]. A cancelled
 * coroutine stays cancelled (its exception is rethrown, never shown).
 */
internal suspend fun <T> attempt(block: suspend () -> T): Result<T> = try {
    Result.success(block())
} catch (e: CancellationException) {
    throw e
} catch (e: Exception) {
    Result.failure(e)
}

internal fun Result<*>.uiError(): UiError? = exceptionOrNull()?.let(UiError::of)
