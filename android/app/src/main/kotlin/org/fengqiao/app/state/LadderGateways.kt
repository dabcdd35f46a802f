// The dispute, inbox and subsidy gateways over the real FieldClient: they
// convert the bindings' records (org.fengqiao.core) into the plain values the
// screens' state uses. Store reads run on `io`. Plain Kotlin like the rest of
// state/, so the JVM suite compiles it against the freshly generated bindings
// (a renamed binding breaks the build here, not on a developer's Android Studio).
package org.fengqiao.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.fengqiao.core.Analysis
import org.fengqiao.core.Difficulty
import org.fengqiao.core.DisputeItem
import org.fengqiao.core.EscalationReason
import org.fengqiao.core.FieldClient
import org.fengqiao.core.Grade
import org.fengqiao.core.Level
import org.fengqiao.core.DeadlineState as CoreDeadline
import org.fengqiao.core.DisputeFilter as CoreFilter
import org.fengqiao.core.SubsidyStatus as CoreSubsidyStatus

class LadderGateways(
    private val client: FieldClient,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : DisputesGateway, InboxGateway, SubsidiesGateway {

    override suspend fun disputes(filter: DisputeFilter): List<DisputeRow> =
        withContext(io) { client.disputes(CoreFilter.valueOf(filter.name)).map(::row) }

    override suspend fun detail(disputeId: String): DisputeDetail = withContext(io) {
        val item = client.dispute(disputeId)
        val actions = client.allowedActions(disputeId)
        val flow = client.flowTable(disputeId).map { f ->
            FlowRow(step = f.step, kind = f.kind.name.lowercase(), level = level(f.level), atMs = f.atMs, note = f.note)
        }
        val offices = client.officesFor(disputeId).map { OfficeOption(it.id, it.name) }
        val a = item.dispute.analysis
        val analysis = DisputeAnalysis(a.cause, a.consequences, DisputeDifficulty.valueOf(a.difficulty.name))
        DisputeDetail(row(item), flow, actions.escalateTo.map(::level), actions.decide, offices, analysis, actions.regrade)
    }

    override suspend fun requestEscalation(disputeId: String, toLevel: LadderLevel, reason: EscalationReasonCode, note: String, office: String?) {
        withContext(io) { client.requestEscalation(disputeId, Level.valueOf(toLevel.name), EscalationReason.valueOf(reason.name), note, office) }
    }

    override suspend fun regrade(disputeId: String, grade: DisputeGrade, analysis: DisputeAnalysis, reason: String) {
        val core = Analysis(analysis.cause, analysis.consequences, Difficulty.valueOf(analysis.difficulty.name))
        withContext(io) { client.regradeDispute(disputeId, Grade.valueOf(grade.name), core, reason) }
    }

    override suspend fun inbox(): List<InboxRow> = withContext(io) {
        client.escalationInbox().map { i ->
            val e = i.escalation
            val d = i.dispute.dispute
            InboxRow(
                escalationId = e.id,
                disputeId = d.id,
                caseNumber = d.caseNumber,
                summary = d.summary,
                grade = grade(e.grade),
                fromLevel = level(e.fromLevel),
                toLevel = level(e.toLevel),
                reason = EscalationReasonCode.valueOf(e.reason.name),
                note = e.note,
                requestedAtMs = e.requestedAtMs,
                deadlineState = i.dispute.deadlineState?.let(::deadline),
            )
        }
    }

    override suspend fun decide(escalationId: String, approve: Boolean, comment: String) {
        withContext(io) { client.decideEscalation(escalationId, approve, comment) }
    }

    override suspend fun mySubsidies(): MySubsidiesView = withContext(io) {
        val mine = client.mySubsidies()
        val rows = mine.items.map { i ->
            val s = i.subsidy
            SubsidyRow(
                id = s.id,
                caseNumber = s.caseNumber,
                amountFen = s.amountFen,
                status = status(s.status),
                accruedAtMs = s.accruedAtMs,
                paidAtMs = s.paidAtMs,
                reason = s.reason,
                overdue = i.overdue,
                disputeId = s.disputeId,
                consultationId = s.consultationId,
                isFinal = i.isFinal,
                paymentRef = s.paymentRef,
                reasonText = i.reasonText,
            )
        }
        val byStatus = { st: CoreSubsidyStatus -> mine.byStatus.firstOrNull { it.status == st } }
        MySubsidiesView(
            rows = rows,
            totals = SubsidyTotals(
                owedFen = mine.owedFen,
                underReviewFen = byStatus(CoreSubsidyStatus.UNDER_REVIEW)?.totalFen ?: 0,
                paidFen = mine.paidFen,
                rejectedCount = byStatus(CoreSubsidyStatus.REJECTED)?.count?.toInt() ?: 0,
                overdueCount = mine.overdueCount.toInt(),
                count = rows.size,
            ),
            byMonth = mine.byMonth.map { SubsidyMonthRow(it.month, status(it.status), it.count.toInt(), it.totalFen) },
            estimates = mine.estimates.map { SubsidyEstimateRow(it.disputeId, it.caseNumber, it.amountFen, it.closedAtMs) },
        )
    }

    private fun row(i: DisputeItem): DisputeRow {
        val d = i.dispute
        return DisputeRow(
            id = d.id,
            caseNumber = d.caseNumber,
            kind = d.kind,
            summary = d.summary,
            grade = grade(d.grade),
            level = level(d.level),
            deadlineAtMs = i.deadlineMs,
            deadlineState = i.deadlineState?.let(::deadline),
            closed = d.closing != null,
            pendingEscalationTo = i.pendingEscalation?.toLevel?.let(::level),
            handledByMe = i.handledByMe,
            pending = i.pending,
            quarantined = i.quarantined,
        )
    }

    // The bindings' enums and the state's mirror each other name for name.
    private fun level(l: Level) = LadderLevel.valueOf(l.name)
    private fun grade(g: Grade) = DisputeGrade.valueOf(g.name)
    private fun deadline(d: CoreDeadline) = DeadlineState.valueOf(d.name)
    private fun status(s: CoreSubsidyStatus) = SubsidyStatusCode.valueOf(s.name)
}
