// Shared UI pieces: keeping a screen's plain-Kotlin state across
// recompositions and rotation (a ViewModel that only holds it), the string
// resources for the state's enums and error codes, times (the core's, in the
// county's zone) and the error banner (the core's words).
package org.fengqiao.app.ui

import androidx.annotation.StringRes
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewmodel.compose.viewModel
import org.fengqiao.app.FengqiaoApp
import org.fengqiao.app.R
import org.fengqiao.app.state.CountyTime
import org.fengqiao.app.state.DeadlineState
import org.fengqiao.app.state.DisputeGrade
import org.fengqiao.app.state.EscalationReasonCode
import org.fengqiao.app.state.LadderLevel
import org.fengqiao.app.state.SubsidyStatusCode
import org.fengqiao.app.state.UiError
import org.fengqiao.app.state.UploadStage
import org.fengqiao.core.ConsultationOutcome
import org.fengqiao.core.Difficulty
import org.fengqiao.core.Grade
import org.fengqiao.core.Satisfaction
import org.fengqiao.core.VisitKind

/** Holds one screen's state object for as long as the screen is on the back stack. */
class Holder<T>(val state: T) : ViewModel()

/** The screen's state, created once per back-stack entry (keyed by its class and `key`). */
@Composable
inline fun <reified T : Any> rememberScreenState(key: String? = null, noinline create: () -> T): T =
    viewModel(key = T::class.java.name + (key?.let { ":$it" } ?: "")) { Holder(create()) }.state

@StringRes
fun errorRes(code: String): Int? = when (code) {
    "network" -> R.string.error_network
    "invalid_credentials" -> R.string.error_invalid_credentials
    "session_expired" -> R.string.error_session_expired
    "not_logged_in" -> R.string.error_not_logged_in
    "rejected" -> R.string.error_rejected
    "invalid_input" -> R.string.error_invalid_input
    "storage_full" -> R.string.error_storage_full
    "storage" -> R.string.error_storage
    "server" -> R.string.error_server
    "rate_limited" -> R.string.error_rate_limited
    "protocol" -> R.string.error_protocol
    "not_found" -> R.string.error_not_found
    "cancelled" -> R.string.error_cancelled
    "internal" -> R.string.error_internal
    "missing_credentials" -> R.string.error_missing_credentials
    "household_required" -> R.string.error_household_required
    "lead_required" -> R.string.error_lead_required
    "level_required" -> R.string.error_level_required
    "reason_required" -> R.string.error_reason_required
    "note_required" -> R.string.error_note_required
    "comment_required" -> R.string.error_comment_required
    "busy" -> R.string.error_busy
    "wrong_store_key" -> R.string.error_wrong_store_key
    "locked" -> R.string.error_locked
    "wrong_pin" -> R.string.error_wrong_pin
    "device_revoked" -> R.string.error_device_revoked
    "unsynced_work" -> R.string.error_unsynced_work
    "storage_low" -> R.string.error_storage_low
    "biometric_failed" -> R.string.error_biometric_failed
    "outcome_required" -> R.string.error_outcome_required
    "satisfaction_required" -> R.string.error_satisfaction_required
    else -> null
}

/**
 * The text for an error: the core's own message (already in the user's language,
 * naming the rule); the app's string only for the screens' own checks, whose
 * message is their code.
 */
@Composable
fun errorText(e: UiError): String {
    if (e.message.isNotBlank() && e.message != e.code) return e.message
    return errorRes(e.code)?.let { stringResource(it) } ?: stringResource(R.string.error_internal)
}

@Composable
fun ErrorBanner(error: UiError?) {
    if (error == null) return
    Surface(color = MaterialTheme.colorScheme.errorContainer, modifier = Modifier.fillMaxWidth()) {
        Text(errorText(error), Modifier.padding(12.dp), color = MaterialTheme.colorScheme.onErrorContainer)
    }
}

@StringRes
fun levelRes(l: LadderLevel) = when (l) {
    LadderLevel.GROUP -> R.string.level_group
    LadderLevel.VILLAGE -> R.string.level_village
    LadderLevel.JUDICIAL_OFFICE -> R.string.level_judicial_office
    LadderLevel.TOWN -> R.string.level_town
}

@StringRes
fun gradeRes(g: DisputeGrade) = when (g) {
    DisputeGrade.GENERAL -> R.string.grade_general
    DisputeGrade.LARGER -> R.string.grade_larger
    DisputeGrade.MAJOR -> R.string.grade_major
}

@StringRes
fun gradeRes(g: Grade) = gradeRes(DisputeGrade.valueOf(g.name))

@StringRes
fun difficultyRes(d: Difficulty) = when (d) {
    Difficulty.LOW -> R.string.difficulty_low
    Difficulty.MEDIUM -> R.string.difficulty_medium
    Difficulty.HIGH -> R.string.difficulty_high
}

@StringRes
fun outcomeRes(o: ConsultationOutcome) = when (o) {
    ConsultationOutcome.SOLVED -> R.string.consult_outcome_solved
    ConsultationOutcome.REFERRED -> R.string.consult_outcome_referred
    ConsultationOutcome.NOT_SOLVED -> R.string.consult_outcome_not_solved
}

@StringRes
fun satisfactionRes(s: Satisfaction) = when (s) {
    Satisfaction.SATISFIED -> R.string.satisfaction_satisfied
    Satisfaction.NEUTRAL -> R.string.satisfaction_neutral
    Satisfaction.DISSATISFIED -> R.string.satisfaction_dissatisfied
}

@StringRes
fun deadlineRes(d: DeadlineState) = when (d) {
    DeadlineState.OK -> R.string.deadline_ok
    DeadlineState.APPROACHING -> R.string.deadline_approaching
    DeadlineState.OVERDUE -> R.string.deadline_overdue
}

@StringRes
fun reasonRes(r: EscalationReasonCode) = when (r) {
    EscalationReasonCode.REPEATED_MEDIATION_FAILED -> R.string.reason_repeated_mediation_failed
    EscalationReasonCode.OUTSIDE_LEVEL_SCOPE -> R.string.reason_outside_level_scope
    EscalationReasonCode.PARTIES_AGITATED -> R.string.reason_parties_agitated
    EscalationReasonCode.LARGE_SUMS -> R.string.reason_large_sums
    EscalationReasonCode.MAJOR_GRADE -> R.string.reason_major_grade
    EscalationReasonCode.OTHER -> R.string.reason_other
}

@StringRes
fun visitKindRes(k: VisitKind) = when (k) {
    VisitKind.ROUTINE -> R.string.visit_kind_routine
    VisitKind.LEGAL_PUBLICITY -> R.string.visit_kind_legal_publicity
    VisitKind.FOLLOW_UP -> R.string.visit_kind_follow_up
    VisitKind.LEAD_FOUND -> R.string.visit_kind_lead_found
}

/** A flow-table entry's kind (its snake_case code); the code itself when unknown to this build. */
@Composable
fun flowKindText(code: String): String = when (code) {
    "reported" -> stringResource(R.string.flow_kind_reported)
    "escalation_requested" -> stringResource(R.string.flow_kind_escalation_requested)
    "escalation_approved" -> stringResource(R.string.flow_kind_escalation_approved)
    "escalation_refused" -> stringResource(R.string.flow_kind_escalation_refused)
    "session_recorded" -> stringResource(R.string.flow_kind_session_recorded)
    "agreement_recorded" -> stringResource(R.string.flow_kind_agreement_recorded)
    "follow_up_recorded" -> stringResource(R.string.flow_kind_follow_up_recorded)
    "confirmation_recorded" -> stringResource(R.string.flow_kind_confirmation_recorded)
    "closed" -> stringResource(R.string.flow_kind_closed)
    else -> code
}

@StringRes
fun subsidyStatusRes(s: SubsidyStatusCode) = when (s) {
    SubsidyStatusCode.ACCRUED -> R.string.subsidy_status_accrued
    SubsidyStatusCode.UNDER_REVIEW -> R.string.subsidy_status_under_review
    SubsidyStatusCode.APPROVED -> R.string.subsidy_status_approved
    SubsidyStatusCode.BATCHED -> R.string.subsidy_status_batched
    SubsidyStatusCode.PAID -> R.string.subsidy_status_paid
    SubsidyStatusCode.REJECTED -> R.string.subsidy_status_rejected
}

@Composable
fun uploadStageText(stage: UploadStage, progress: Float): String = when (stage) {
    UploadStage.WAITING -> stringResource(R.string.upload_waiting)
    UploadStage.UPLOADING -> stringResource(R.string.upload_uploading, (progress * 100).toInt())
    UploadStage.DONE -> stringResource(R.string.upload_done)
    UploadStage.FAILED_WILL_RETRY -> stringResource(R.string.upload_failed_retry)
    UploadStage.FAILED -> stringResource(R.string.upload_failed)
    UploadStage.NOT_QUEUED -> stringResource(R.string.upload_not_queued)
}

/** The county's clock face, formatted by the core in the county's zone (never the phone's). */
@Composable
private fun countyTime(): CountyTime = (LocalContext.current.applicationContext as FengqiaoApp).container.countyTime

/** A time as the county reads it (`YYYY-MM-DD HH:MM` in the county's zone). */
@Composable
fun formatTime(ms: Long): String = countyTime().time(ms)

/** A day as the county reads it (`YYYY-MM-DD` in the county's zone). */
@Composable
fun formatDate(ms: Long): String = countyTime().date(ms)
