// The scripted journey of issue 21 through the app's state classes (not the
// bindings alone), on the one real server, in village 和平村 (t2v2): a group
// leader offline records a visit with a lead and a GPS position, reports a
// dispute from that lead with two photos (camera and gallery, captioned) and
// sees its case number at once, records a session and an agreement with a
// signature photo, and asks the village to take it up; the first secretary's
// phone syncs and is told exactly once that it awaits their decision, opens
// the whole file and approves; the village secretary's concurrent refusal
// loses and their phone shows the decision that stands, told once; the
// village mediator takes it to a close, the judicial office's phone returns
// the file for a missing paper, the mediator is told and reads the reason in
// Chinese, photographs the paper and the file passes; the county pays, and
// the mediator's phone tells "paid" once, with the date and the payment
// reference (JourneyMediatorTests.kt).
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CaseAction
import org.fengqiao.app.state.CaseWorkState
import org.fengqiao.app.state.ChosenPhoto
import org.fengqiao.app.state.CoreApprovals
import org.fengqiao.app.state.CoreFieldGateways
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.state.CoreNotifications
import org.fengqiao.app.state.DisputeDetailState
import org.fengqiao.app.state.EscalationReasonCode
import org.fengqiao.app.state.InboxState
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.app.state.LadderLevel
import org.fengqiao.app.state.NewVisitState
import org.fengqiao.app.state.NotificationsState
import org.fengqiao.app.state.PhotoSource
import org.fengqiao.app.state.ReportDisputeState
import org.fengqiao.app.state.SyncState
import org.fengqiao.app.state.VisitListState
import org.fengqiao.core.Difficulty
import org.fengqiao.core.Grade
import org.fengqiao.core.NoticeKind
import org.fengqiao.core.VisitKind

/** The demo users of the journey's village (和平村, t2v2). */
object JourneyCast {
    const val LEADER = "leader.t2v2g3"
    const val FIRST_SECRETARY = "firstsec.t2v2"
    const val SECRETARY = "secretary.t2v2"
    const val MEDIATOR = "mediator.t2v2"
    const val CADRE = "cadre.t2v2"
    const val ADVISOR = "advisor.t2v2"
    const val JUDICIAL = "judicial.t2"
}

/** The user id in a demo user's access token (its `sub`), for raw pushes in their name. */
fun userIdOf(token: String): String {
    val payload = String(java.util.Base64.getUrlDecoder().decode(token.split('.')[1]))
    return Regex("\"sub\"\\s*:\\s*\"([^\"]+)\"").find(payload)?.groupValues?.get(1)
        ?: throw IllegalStateException("no sub in the token")
}

val journeyLeaderTests = Suite("journeys: group leader to paid subsidy").apply {
    test("lead → report with two photos offline → session, agreement → escalation approved → closed, returned, fixed, paid") {
        val disputeId: String
        Phone("journey-leader").use { leader ->
            leader.signIn(JourneyCast.LEADER)
            val field = CoreFieldGateways(leader.client)
            leader.link.mode = LinkProxy.Mode.DOWN

            // a visit with a lead, the position given (never waited for)
            val visitForm = NewVisitState(CoreGateways(leader.client))
            visitForm.load()
            visitForm.selectHousehold(visitForm.ui.value.households.first().id)
            visitForm.selectKind(VisitKind.LEAD_FOUND)
            visitForm.setLeadDraft("两户因排水沟堵塞争吵，可能动手")
            visitForm.addLead()
            visitForm.setLocation(41.98, 122.15)
            val visit = assertNotNull(visitForm.save(), "${visitForm.ui.value.error}")
            assertEquals(41.98, visit.location?.lat)

            // the visit list offers its lead to report (the route report/{visit}/{lead})
            val visits = VisitListState(CoreGateways(leader.client))
            visits.refresh()
            val listed = visits.ui.value.rows.single { it.id == visit.id }
            val lead = listed.leads.single()
            assertEquals("两户因排水沟堵塞争吵，可能动手", lead.summary)

            // the report from that lead, with two photos
            val report = ReportDisputeState(field)
            report.load()
            val before = assertNotNull(report.ui.value.stock, "${report.ui.value.error}")
            assertTrue(report.startFromLead(listed.id, lead.id), "${report.ui.value.error}")
            assertEquals(visit.leads.single().id, report.ui.value.leadId)
            assertTrue(report.ui.value.summary.contains("排水沟"), report.ui.value.summary)
            report.chooseKind("neighbour")
            report.setPartyDraft("王建国")
            report.addParty(visit.householdId)
            report.setPartyDraft("李秀英")
            report.addParty()
            report.chooseGrade(Grade.GENERAL)
            report.setCause("排水沟堵塞")
            report.setConsequences("可能动手")
            report.chooseDifficulty(Difficulty.MEDIUM)
            report.addPhoto(ChosenPhoto(fakeJpeg(leader.dataDir, 30_000).path, PhotoSource.CAMERA, "堵塞的排水沟"))
            report.addPhoto(ChosenPhoto(fakeJpeg(leader.dataDir, 31_000).path, PhotoSource.GALLERY, "去年的协议"))
            val d = assertNotNull(report.report(), "${report.ui.value.error}")
            disputeId = d.id
            assertTrue(d.caseNumber.isNotBlank(), "the case number at once, offline")
            assertEquals(report.ui.value.reported?.caseNumber, d.caseNumber)
            assertEquals(emptyList(), report.ui.value.photoErrors)
            assertEquals(before.left - 1uL, report.ui.value.stock?.left, "one number taken")
            assertEquals(2, leader.client.photosFor("dispute", d.id).size)

            // a session and an agreement with a signature photo, at the group
            val work = CaseWorkState(field, d.id)
            work.load()
            assertTrue(work.ui.value.canRecord, "the group leader handles it at the group")
            assertTrue(work.recordSession("双方各执一词，约定三日内疏通", agreed = false, place = "第三组"), "${work.ui.value.error}")
            assertTrue(
                work.recordAgreement("王家负责疏通排水沟", 0, "王家三日内疏通", listOf(ChosenPhoto(fakeJpeg(leader.dataDir, 32_000).path, PhotoSource.CAMERA))),
                "${work.ui.value.error}",
            )
            assertEquals(CaseAction.AGREEMENT, work.ui.value.done)
            assertEquals(1, work.ui.value.file?.sessions?.size)
            assertEquals(1, work.ui.value.file?.agreements?.single()?.signaturePhotos?.size)

            // the escalation request, still offline
            val detail = DisputeDetailState(LadderGateways(leader.client), d.id)
            detail.load()
            detail.chooseReason(EscalationReasonCode.PARTIES_AGITATED)
            detail.setNote("协议未履行，双方情绪激动")
            assertTrue(detail.requestEscalation(), "${detail.ui.value.error}")
            assertEquals(LadderLevel.VILLAGE, detail.ui.value.detail?.row?.pendingEscalationTo)

            leader.link.mode = LinkProxy.Mode.UP
            val sent = assertNotNull(SyncState(CoreGateways(leader.client)).syncNow())
            assertEquals(0uL, sent.rejected + sent.conflicts, "$sent")
        }

        // the village secretary refuses it on a phone that has not synced since; the first
        // secretary's approval reaches the server first and stands
        Phone("journey-secretary-race").use { secretary ->
            secretary.signIn(JourneyCast.SECRETARY)
            val refusing = InboxState(LadderGateways(secretary.client), CoreApprovals(secretary.client))
            refusing.refresh()
            val asked = refusing.ui.value.rows.single { it.disputeId == disputeId }
            refusing.setComment(asked.escalationId, "请组里继续调解")
            assertTrue(refusing.refuse(asked.escalationId), "${refusing.ui.value.error}")

            Phone("journey-firstsec").use { sec ->
                sec.signIn(JourneyCast.FIRST_SECRETARY) // signs in and syncs: the core works out what is new
                val told = NotificationsState(CoreNotifications(sec.client))
                told.load()
                val awaits = told.ui.value.pending.filter { it.disputeId == disputeId }
                assertEquals(listOf(NoticeKind.AWAITS_DECISION), awaits.map { it.kind }, "exactly one notice for this escalation: $awaits")
                assertEquals(asked.escalationId, awaits.single().subjectId)
                assertEquals("待您审批", awaits.single().title)
                assertTrue(awaits.single().body.contains(awaits.single().caseNumber), awaits.single().body)
                // syncing again tells nothing new about it; the one notice stays listed
                sec.client.sync()
                assertTrue(sec.client.refreshNotices().none { it.disputeId == disputeId }, "told once")
                told.load()
                assertEquals(1, told.ui.value.pending.count { it.disputeId == disputeId }, "${told.ui.value.pending}")

                val inbox = InboxState(LadderGateways(sec.client), CoreApprovals(sec.client))
                inbox.refresh()
                val row = inbox.ui.value.rows.single { it.disputeId == disputeId }
                assertEquals(EscalationReasonCode.PARTIES_AGITATED, row.reason)
                inbox.open(row.escalationId)
                val case = assertNotNull(inbox.ui.value.case, "the whole file: ${inbox.ui.value.error}")
                assertEquals(2, case.file.item.dispute.parties.size)
                assertEquals(1, case.file.sessions.size)
                assertEquals(1, case.file.agreements.size)
                inbox.setComment(row.escalationId, "同意，由村调委会调处")
                assertTrue(inbox.approve(row.escalationId), "${inbox.ui.value.error}")
                syncClean(sec)
            }

            // the secretary's refusal lost: the decision that stands is shown, told once, not an error
            val lost = secretary.client.sync()
            assertEquals(1uL, lost.conflicts, "$lost")
            assertTrue(secretary.client.quarantined().isEmpty(), "a lost race is not an error")
            refusing.refresh()
            refusing.loadHistory()
            val mine = refusing.ui.value.history.single { it.escalationId == asked.escalationId }
            assertFalse(mine.approved, "what the secretary decided")
            val standing = assertNotNull(mine.supersededBy, "the decision that stands")
            assertTrue(standing.approved)
            assertEquals("同意，由村调委会调处", standing.comment)
            val secTold = NotificationsState(CoreNotifications(secretary.client))
            secTold.load()
            val superseded = secTold.ui.value.pending.filter { it.disputeId == disputeId && it.kind == NoticeKind.DECISION_SUPERSEDED }
            assertEquals(1, superseded.size, "${secTold.ui.value.pending}")
            assertTrue(superseded.single().body.contains(standing.decidedByName!!), superseded.single().body)
            assertEquals(0uL, secretary.client.sync().newNotices, "told once")
        }

        mediatorTakesItToPayment(disputeId)
    }
}

/** The sync screen's run; fails on any refused or lost op. */
suspend fun syncClean(phone: Phone) {
    val r = assertNotNull(SyncState(CoreGateways(phone.client)).syncNow())
    assertEquals(0uL, r.rejected + r.conflicts, "$r")
}

/** A photo of a paper, as the camera leaves it. */
fun paperPhoto(phone: Phone, seed: Int): ChosenPhoto = ChosenPhoto(fakeJpeg(phone.dataDir, seed).path, PhotoSource.CAMERA)
