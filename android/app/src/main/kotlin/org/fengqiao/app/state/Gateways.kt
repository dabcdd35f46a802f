// The binding calls each screen's state needs, as small interfaces: the app
// implements them over the one FieldClient (CoreGateways for session, visits,
// photos, sync and the lock; state/LadderGateways.kt for disputes, the inbox and
// subsidies), the JVM tests with fakes or the real client. Every call is
// `suspend`: the implementations move the core's blocking store reads off the
// caller's thread.
package org.fengqiao.app.state

import org.fengqiao.core.AttachedPhoto
import org.fengqiao.core.Attachment
import org.fengqiao.core.EscalationDecision
import org.fengqiao.core.Household
import org.fengqiao.core.LockStatus
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewVisit
import org.fengqiao.core.SyncPhase
import org.fengqiao.core.SyncReport
import org.fengqiao.core.SyncStatus
import org.fengqiao.core.User
import org.fengqiao.core.Visit
import org.fengqiao.core.VisitItem

/** Sign in and out; the cached session works offline. */
interface SessionGateway {
    fun currentUser(): User?
    suspend fun login(username: String, password: String): User
    /** Refused with `locked` while the PIN lock is closed. */
    suspend fun logout()
    /** Signs a locked phone out with the user's password (checked by the server). */
    suspend fun logoutWithPassword(password: String)
}

/** Door-to-door visits (走访) and their photos. */
interface VisitsGateway {
    suspend fun households(): List<Household>
    suspend fun listVisits(limit: UInt): List<VisitItem>
    suspend fun recordVisit(visit: NewVisit): Visit
    suspend fun attachPhoto(photo: NewPhoto): Attachment
    suspend fun photosFor(targetKind: String, targetId: String): List<AttachedPhoto>
    /** A photo's bytes, decrypted by the core, if its original is on this phone (the file on disk stays encrypted). */
    suspend fun photoBytes(sha256: String): ByteArray?
}

/** Sync (同步), its status and the quarantine of refused operations. */
interface SyncGateway {
    /** Runs one sync; cancelling the calling coroutine cancels it (queued work stays intact). */
    suspend fun sync(onProgress: (SyncPhase, ULong, ULong) -> Unit): SyncReport
    /**
     * Holds a request until the user's scope has a change after the last pull, or
     * [timeoutSecs] (1..55) pass; then syncs if there was one. `null`: nothing changed.
     */
    suspend fun waitAndSync(timeoutSecs: UInt, onProgress: (SyncPhase, ULong, ULong) -> Unit): SyncReport?
    suspend fun syncStatus(): SyncStatus
    suspend fun retryQuarantined(opId: String)
    suspend fun discardQuarantined(opId: String)
    /** For a quarantined decision that lost to another approver's: the one that stands, the decider named by the core. */
    suspend fun standingDecision(opId: String): EscalationDecision?
}

/** The offline lock of the signed-in user's data (PIN / biometrics). */
interface LockGateway {
    suspend fun lockStatus(): LockStatus
    /** Closes the data until the next unlock; cheap, safe from any thread. */
    fun lock()
    suspend fun unlock(pin: String)
    /** Passes on the platform's biometric result (BiometricPrompt / LocalAuthentication). */
    suspend fun unlockWithBiometric(verified: Boolean)
    suspend fun setPin(pin: String, allowBiometric: Boolean)
    suspend fun clearPin()
}

/** Disputes (矛盾纠纷), the flow table and escalation requests (逐级上报). */
interface DisputesGateway {
    /** The core's list for [filter], in the core's order. */
    suspend fun disputes(filter: DisputeFilter): List<DisputeRow>
    suspend fun detail(disputeId: String): DisputeDetail
    /** [office]: the judicial office chosen (an id of [DisputeDetail.offices]), only for the third level. */
    suspend fun requestEscalation(disputeId: String, toLevel: LadderLevel, reason: EscalationReasonCode, note: String, office: String?)
    /** Re-grades and re-analyses an open dispute (重新定级/研判); the core refuses it without a reason (`correction_reason_required`). */
    suspend fun regrade(disputeId: String, grade: DisputeGrade, analysis: DisputeAnalysis, reason: String)
}

/** The approver's inbox of escalation requests. */
interface InboxGateway {
    suspend fun inbox(): List<InboxRow>
    /** Approves or refuses; refusing needs a comment. */
    suspend fun decide(escalationId: String, approve: Boolean, comment: String)
}

/** The signed-in mediator's per-case subsidies (案件补贴). */
interface SubsidiesGateway {
    suspend fun mySubsidies(): MySubsidiesView
}
