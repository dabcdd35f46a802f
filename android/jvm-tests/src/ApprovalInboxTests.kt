// The approver's whole file, through InboxState against the real server: the
// first secretary opens a request and reads the whole case (parties, kind,
// analysis, requester, reason, the session recorded, the flow table, the
// deadline) with the core's comment templates, approves with one, and finds it
// in the history of their decisions. Two approvers race on another request:
// the loser's phone shows the decision that stands (who, what, when) in the
// history and is told so once; nothing waits in quarantine as an error.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreApprovals
import org.fengqiao.app.state.InboxState
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.core.EscalationReason
import org.fengqiao.core.Level
import org.fengqiao.core.NewSession
import org.fengqiao.core.NoticeKind

val approvalInboxTests = Suite("the approver's whole file").apply {
    test("the first secretary reads the whole case, approves with a template, and sees it in their history") {
        Phone("approve-leader").use { leader ->
            leader.signIn("leader.t2v3g2")
            val group = leader.client.currentUser()!!.roles.single().unitId
            val d = leader.client.reportDispute(neighbourDispute(group, "宅前道路通行纠纷"))
            leader.client.recordSession(NewSession(disputeId = d.id, place = "组长家", record = "双方各执一词", agreed = false))
            val esc = leader.client.requestEscalation(d.id, Level.VILLAGE, EscalationReason.REPEATED_MEDIATION_FAILED, "组里调不下来")
            leader.client.sync()

            Phone("approve-firstsec").use { sec ->
                sec.signIn("firstsec.t2v3")
                val inbox = InboxState(LadderGateways(sec.client), CoreApprovals(sec.client))
                inbox.refresh()
                assertTrue(inbox.ui.value.rows.any { it.escalationId == esc.id })
                inbox.open(esc.id)
                val case = assertNotNull(inbox.ui.value.case, "${inbox.ui.value.error}")
                assertEquals(listOf("李四", "王五"), case.file.item.dispute.parties.map { it.name })
                assertEquals("邻里纠纷", case.kindLabel)
                assertEquals("屡调不成", case.reasonLabel)
                assertEquals(leader.client.currentUser()!!.displayName, case.requesterName)
                assertEquals("排水沟", case.file.item.dispute.analysis.cause)
                assertEquals("双方各执一词", case.file.sessions.single().record)
                assertTrue(case.file.flow.size >= 3, "reported, session, escalation requested: ${case.file.flow}")
                assertTrue(case.deadlineText.contains("（"), case.deadlineText)
                assertTrue(case.mayDecide && case.standing == null)
                assertTrue(case.approveTemplates.isNotEmpty() && case.refuseTemplates.isNotEmpty())

                inbox.useTemplate(esc.id, case.approveTemplates.first())
                assertTrue(inbox.approve(esc.id), "${inbox.ui.value.error}")
                assertNull(inbox.ui.value.case, "the decided case closes")
                val mine = inbox.ui.value.history.single { it.escalationId == esc.id }
                assertTrue(mine.approved && mine.pending && mine.supersededBy == null)
                assertEquals(case.approveTemplates.first(), mine.comment)
                sec.client.sync()
                inbox.refresh()
                assertFalse(inbox.ui.value.history.single { it.escalationId == esc.id }.pending, "confirmed by the server")
            }
        }
    }

    test("two approvers race: the loser's history shows who decided, what and when; told once; no quarantine") {
        Phone("race2-leader").use { leader ->
            leader.signIn("leader.t2v3g3")
            val d = leader.client.reportDispute(neighbourDispute(leader.client.currentUser()!!.roles.single().unitId, "山林边界争议"))
            val esc = leader.client.requestEscalation(d.id, Level.VILLAGE, EscalationReason.OUTSIDE_LEVEL_SCOPE, "")
            leader.client.sync()
            Phone("race2-secretary").use { sec ->
                Phone("race2-firstsec").use { first ->
                    sec.signIn("secretary.t2v3")
                    first.signIn("firstsec.t2v3")
                    sec.client.decideEscalation(esc.id, false, "请组里继续调解")
                    first.client.decideEscalation(esc.id, true, "同意上报")
                    assertEquals(1uL, sec.client.sync().pushedApplied)
                    val report = first.client.sync()
                    assertEquals(1uL, report.conflicts)
                    assertTrue(first.client.quarantined().isEmpty(), "a lost race is not an error")
                    assertTrue(first.client.syncStatus().quarantined.isEmpty())

                    val inbox = InboxState(LadderGateways(first.client), CoreApprovals(first.client))
                    inbox.refresh()
                    val lost = inbox.ui.value.history.single { it.escalationId == esc.id }
                    assertTrue(lost.approved, "what I decided")
                    val standing = assertNotNull(lost.supersededBy)
                    assertFalse(standing.approved)
                    assertEquals("请组里继续调解", standing.comment)
                    assertEquals(sec.client.currentUser()!!.id, standing.decidedBy)
                    assertEquals(sec.client.currentUser()!!.displayName, standing.decidedByName)
                    assertTrue(standing.decidedAtMs > 0)
                    val told = first.client.pendingNotices().filter { it.kind == NoticeKind.DECISION_SUPERSEDED }
                    assertEquals(1, told.size, "$told")
                    assertTrue(told.single().body.contains(standing.decidedByName!!), told.single().body)
                    inbox.open(esc.id)
                    val case = assertNotNull(inbox.ui.value.case)
                    assertFalse(case.mayDecide)
                    assertEquals(standing.decidedBy, case.standing?.decidedBy)
                    assertEquals(0uL, first.client.sync().newNotices, "told once")
                }
            }
        }
    }
}
