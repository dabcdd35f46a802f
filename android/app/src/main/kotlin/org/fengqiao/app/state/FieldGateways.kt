// The binding calls of the field work's screens: reporting a dispute, the work
// on a case (sessions, agreements, follow-ups, closing, the case-file
// checklist), finding households, prevention (violations, restoring, the
// screening) and a legal advisor's consultations. Each is a small interface the
// JVM tests can fake; CoreFieldGateways implements all of them over the one
// FieldClient, moving the core's blocking store work onto `io`.
package org.fengqiao.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.fengqiao.core.Attachment
import org.fengqiao.core.CaseFileCheck
import org.fengqiao.core.CaseNumberStock
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.Consultation
import org.fengqiao.core.ConsultationItem
import org.fengqiao.core.Dispute
import org.fengqiao.core.DisputeActions
import org.fengqiao.core.DisputeFile
import org.fengqiao.core.DisputeKind
import org.fengqiao.core.FieldClient
import org.fengqiao.core.FocusArea
import org.fengqiao.core.HouseholdMatch
import org.fengqiao.core.NegativeItem
import org.fengqiao.core.NewAgreement
import org.fengqiao.core.NewConsultation
import org.fengqiao.core.NewDispute
import org.fengqiao.core.NewFollowUp
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewScreening
import org.fengqiao.core.NewSession
import org.fengqiao.core.NewViolation
import org.fengqiao.core.Screening
import org.fengqiao.core.ScreeningDue
import org.fengqiao.core.User
import org.fengqiao.core.Violation
import org.fengqiao.core.ViolationItem

/** Reporting a dispute (矛盾纠纷登记), from scratch or from a visit's lead. */
interface ReportGateway {
    fun currentUser(): User?
    /** The county's dispute kinds, with labels. */
    fun disputeKinds(): List<DisputeKind>
    /** The core's draft of a report from a lead found on a visit. */
    suspend fun draftFromLead(visitId: String, leadId: String): NewDispute
    suspend fun report(dispute: NewDispute): Dispute
    suspend fun attachPhoto(photo: NewPhoto): Attachment
    /** The case numbers left offline, with the core's warning when few are. */
    suspend fun caseNumberStock(): CaseNumberStock
}

/** The work on one case: its whole file, what the user may do, the records of the work. */
interface CaseWorkGateway {
    suspend fun file(disputeId: String): DisputeFile
    suspend fun actions(disputeId: String): DisputeActions
    suspend fun checklist(disputeId: String): CaseFileCheck
    suspend fun recordSession(session: NewSession)
    suspend fun recordAgreement(agreement: NewAgreement)
    suspend fun recordFollowUp(followUp: NewFollowUp)
    suspend fun close(disputeId: String, outcome: ClosingOutcome, note: String)
    suspend fun attachPhoto(photo: NewPhoto): Attachment
    /** A photo that files the checklist item [item] of the dispute. */
    suspend fun attachCaseFilePhoto(photo: NewPhoto, item: String): Attachment
}

/** Households on the phone, found offline, with their standing. */
interface HouseholdSearchGateway {
    suspend fun search(query: String, limit: UInt): List<HouseholdMatch>
}

/** Prevention (四提前): the negative list, violations, restoring, the screening. */
interface PreventGateway {
    suspend fun negativeList(householdId: String): List<NegativeItem>
    suspend fun violations(householdId: String): List<ViolationItem>
    suspend fun recordViolation(violation: NewViolation): Violation
    suspend fun restore(violationId: String, note: String): Violation
    suspend fun screeningDue(): ScreeningDue?
    fun focusAreas(): List<FocusArea>
    suspend fun fileScreening(screening: NewScreening): Screening
}

/** A legal advisor's consultations (法律咨询). */
interface ConsultationGateway {
    fun currentUser(): User?
    suspend fun record(consultation: NewConsultation): Consultation
    suspend fun mine(): List<ConsultationItem>
}

class CoreFieldGateways(
    private val client: FieldClient,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : ReportGateway, CaseWorkGateway, HouseholdSearchGateway, PreventGateway, ConsultationGateway {
    override fun currentUser(): User? = client.currentUser()
    override fun disputeKinds(): List<DisputeKind> = client.disputeKinds()
    override suspend fun draftFromLead(visitId: String, leadId: String): NewDispute =
        withContext(io) { client.disputeDraftFromLead(visitId, leadId) }
    override suspend fun report(dispute: NewDispute): Dispute = withContext(io) { client.reportDispute(dispute) }
    override suspend fun attachPhoto(photo: NewPhoto): Attachment = withContext(io) { client.attachPhoto(photo) }
    override suspend fun caseNumberStock(): CaseNumberStock = withContext(io) { client.caseNumberStock() }

    override suspend fun file(disputeId: String): DisputeFile = withContext(io) { client.disputeFile(disputeId) }
    override suspend fun actions(disputeId: String): DisputeActions = withContext(io) { client.allowedActions(disputeId) }
    override suspend fun checklist(disputeId: String): CaseFileCheck = withContext(io) { client.caseFileCheck(disputeId) }
    override suspend fun recordSession(session: NewSession) { withContext(io) { client.recordSession(session) } }
    override suspend fun recordAgreement(agreement: NewAgreement) { withContext(io) { client.recordAgreement(agreement) } }
    override suspend fun recordFollowUp(followUp: NewFollowUp) { withContext(io) { client.recordFollowUp(followUp) } }
    override suspend fun close(disputeId: String, outcome: ClosingOutcome, note: String) {
        withContext(io) { client.closeDispute(disputeId, outcome, note) }
    }
    override suspend fun attachCaseFilePhoto(photo: NewPhoto, item: String): Attachment =
        withContext(io) { client.attachCaseFilePhoto(photo, item) }

    override suspend fun search(query: String, limit: UInt): List<HouseholdMatch> =
        withContext(io) { client.searchHouseholds(query, limit) }

    override suspend fun negativeList(householdId: String): List<NegativeItem> = withContext(io) { client.negativeList(householdId) }
    override suspend fun violations(householdId: String): List<ViolationItem> = withContext(io) { client.violationsFor(householdId) }
    override suspend fun recordViolation(violation: NewViolation): Violation = withContext(io) { client.recordViolation(violation) }
    override suspend fun restore(violationId: String, note: String): Violation =
        withContext(io) { client.restoreHousehold(violationId, note) }
    override suspend fun screeningDue(): ScreeningDue? = withContext(io) { client.screeningDue() }
    override fun focusAreas(): List<FocusArea> = client.focusAreas()
    override suspend fun fileScreening(screening: NewScreening): Screening = withContext(io) { client.fileScreening(screening) }

    override suspend fun record(consultation: NewConsultation): Consultation = withContext(io) { client.recordConsultation(consultation) }
    override suspend fun mine(): List<ConsultationItem> = withContext(io) { client.myConsultations() }
}
