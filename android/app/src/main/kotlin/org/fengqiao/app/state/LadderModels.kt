// What the dispute, inbox and subsidy screens show, as plain values. The
// gateways (state/LadderGateways.kt in the app) convert the bindings' records
// into these, so the screens' logic does not depend on the exact shape of
// every binding record and the JVM tests can build them directly.
package org.fengqiao.app.state

/** The four-level ladder (四级逐调), lowest first. */
enum class LadderLevel { GROUP, VILLAGE, JUDICIAL_OFFICE, TOWN }

/** 一般 / 较大 / 重大. */
enum class DisputeGrade { GENERAL, LARGER, MAJOR }

/** Where a dispute stands against its level's deadline. */
enum class DeadlineState { OK, APPROACHING, OVERDUE }

/** Why a dispute should move up (屡调不成, …). */
enum class EscalationReasonCode {
    REPEATED_MEDIATION_FAILED,
    OUTSIDE_LEVEL_SCOPE,
    PARTIES_AGITATED,
    LARGE_SUMS,
    MAJOR_GRADE,
    OTHER,
}

/** A dispute (矛盾纠纷) in the list. */
data class DisputeRow(
    val id: String,
    val caseNumber: String,
    /** The policy's kind code, e.g. `land`, `neighbour`. */
    val kind: String,
    val summary: String,
    val grade: DisputeGrade,
    val level: LadderLevel,
    val deadlineAtMs: Long,
    /** None once closed. */
    val deadlineState: DeadlineState?,
    val closed: Boolean,
    /** The level a waiting escalation asks for, if any. */
    val pendingEscalationTo: LadderLevel? = null,
    val handledByMe: Boolean = false,
    /** Made or changed here, not yet confirmed by the server. */
    val pending: Boolean = false,
    /** Refused by the server; waits in quarantine. */
    val quarantined: Boolean = false,
)

/** Mediation difficulty (调解难度), one of the analysis's three axes. */
enum class DisputeDifficulty { LOW, MEDIUM, HIGH }

/** The three-axis analysis (研判): cause, expected consequences, difficulty. */
data class DisputeAnalysis(val cause: String, val consequences: String, val difficulty: DisputeDifficulty)

/** One line of the dispute flow table (矛盾纠纷排查化解流向表). */
data class FlowRow(
    val step: UInt,
    /** The flow kind's code, e.g. `reported`, `escalated`, `closed`. */
    val kind: String,
    val level: LadderLevel,
    val atMs: Long,
    val note: String = "",
)

/** A dispute's detail: the row, its flow table and what the user may do now. */
data class DisputeDetail(
    val row: DisputeRow,
    val flow: List<FlowRow>,
    /** Levels the user may ask to move it to (empty: may not ask now). */
    val escalateTo: List<LadderLevel>,
    /** The waiting escalation this user may approve or refuse, if any. */
    val decideEscalationId: String? = null,
    /** The judicial offices serving the dispute's town, in the core's order. */
    val offices: List<OfficeOption> = emptyList(),
    /** The dispute's current analysis (a re-grade form starts from it). */
    val analysis: DisputeAnalysis? = null,
    /** The core offers re-grading and re-analysis to this user now. */
    val mayRegrade: Boolean = false,
)

/** A judicial office (司法所) a move to the third level may go to. */
data class OfficeOption(val id: String, val name: String)

/** An escalation request waiting for this approver. */
data class InboxRow(
    val escalationId: String,
    val disputeId: String,
    val caseNumber: String,
    val summary: String,
    val grade: DisputeGrade,
    val fromLevel: LadderLevel,
    val toLevel: LadderLevel,
    val reason: EscalationReasonCode,
    val note: String,
    val requestedAtMs: Long,
    val deadlineState: DeadlineState? = null,
)

/** Where a per-case subsidy stands (一案一补). */
enum class SubsidyStatusCode { ACCRUED, UNDER_REVIEW, APPROVED, BATCHED, PAID, REJECTED }

/** One of the signed-in user's subsidies. Money in integer fen. */
data class SubsidyRow(
    val id: String,
    val caseNumber: String,
    val amountFen: Long,
    val status: SubsidyStatusCode,
    val accruedAtMs: Long,
    val paidAtMs: Long? = null,
    /** Why it is under review or rejected. */
    val reason: String = "",
    /** Approved but unpaid past the county's days (一案一补，绝不拖欠). */
    val overdue: Boolean = false,
    /** The case it pays for (the screen opens it), for a case subsidy. */
    val disputeId: String? = null,
    /** The consultation it pays for, for a legal advisor's consultation subsidy. */
    val consultationId: String? = null,
    /** The amount is final (the file passed review); otherwise shown as an estimate. */
    val isFinal: Boolean = false,
    /** The bank transfer's reference, once paid. */
    val paymentRef: String = "",
    /** Why returned or rejected, in the core's Chinese (a missing paper by its name). */
    val reasonText: String = "",
)

/** The core's total of one month of accrual (county zone) and one status. */
data class SubsidyMonthRow(val month: String, val status: SubsidyStatusCode, val count: Int, val totalFen: Long)

/** A case the user resolved whose subsidy has not reached the phone: the county formula's estimate. */
data class SubsidyEstimateRow(val disputeId: String, val caseNumber: String, val amountFen: Long, val closedAtMs: Long)

/** Money shown to users: fen → `¥1,234.50`. */
object Money {
    fun yuan(fen: Long): String {
        val sign = if (fen < 0) "-" else ""
        val abs = kotlin.math.abs(fen)
        val whole = (abs / 100).toString().reversed().chunked(3).joinToString(",").reversed()
        val cents = (abs % 100).toString().padStart(2, '0')
        return "$sign¥$whole.$cents"
    }
}
