// Disputes and the ladder through the bindings, against the real server: a
// group leader reports a dispute and asks to escalate it while offline; the
// village's first secretary finds it in their inbox after a sync and approves
// it offline; the leader sees the new level after the next sync. A cadre of the
// same village may see the request but not decide it: a typed exception with
// the domain's code, and nothing queued.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.core.Analysis
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.DeadlineState
import org.fengqiao.core.Difficulty
import org.fengqiao.core.EscalationReason
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.FlowKind
import org.fengqiao.core.Grade
import org.fengqiao.core.Level
import org.fengqiao.core.NewDispute
import org.fengqiao.core.Party
import org.fengqiao.core.gradeLabelZh
import org.fengqiao.core.levelLabelZh

/** A neighbour dispute arising in `origin`, as a group leader reports it. */
fun neighbourDispute(origin: String, summary: String = "两户因排水沟堵塞争吵") = NewDispute(
    kind = "neighbour",
    originUnit = origin,
    parties = listOf(Party(name = "李四"), Party(name = "王五")),
    summary = summary,
    grade = Grade.GENERAL,
    analysis = Analysis(cause = "排水沟", consequences = "可能动手", difficulty = Difficulty.MEDIUM),
)

val ladderTests = Suite("disputes and the ladder").apply {
    test("a leader escalates offline; the first secretary approves offline; the leader sees the village level") {
        Phone("ladder-leader").use { leader ->
            leader.signIn("leader.t1v1g1")
            assertTrue(leader.client.caseNumbersLeft() > 0uL, "the first sync reserved case numbers")
            assertTrue(leader.client.disputeKinds().any { it.code == "neighbour" && it.usualLevel == Level.GROUP })
            val group = leader.client.currentUser()!!.roles.single().unitId

            leader.link.mode = LinkProxy.Mode.DOWN
            val d = leader.client.reportDispute(neighbourDispute(group))
            assertEquals(Level.GROUP, d.level, "the lowest level the leader handles")
            assertTrue(d.caseNumber.startsWith("T01V01-"), d.caseNumber)
            val listed = leader.client.dispute(d.id)
            assertTrue(listed.pending && listed.handledByMe)
            assertEquals(DeadlineState.OK, listed.deadlineState)
            assertTrue(listed.deadlineMs > d.levelSinceMs)
            val actions = leader.client.allowedActions(d.id)
            assertEquals(listOf(Level.VILLAGE), actions.escalateTo, "one step up for a general dispute")
            assertTrue(actions.record && actions.close && actions.decide == null)

            val esc = leader.client.requestEscalation(d.id, Level.VILLAGE, EscalationReason.REPEATED_MEDIATION_FAILED, "两次调解未果")
            assertEquals(Level.GROUP, esc.fromLevel)
            assertEquals(esc.id, leader.client.dispute(d.id).pendingEscalation?.id)
            assertTrue(leader.client.allowedActions(d.id).escalateTo.isEmpty(), "one request at a time")
            val waiting = assertFailsWith<FengqiaoException.Rejected> {
                leader.client.closeDispute(d.id, ClosingOutcome.RESOLVED, "")
            }
            assertEquals("invalid_state", waiting.reason)
            assertTrue(leader.client.escalationInbox().isEmpty(), "a group leader approves nothing")
            assertEquals(2uL, leader.client.syncStatus().pendingOps)

            leader.link.mode = LinkProxy.Mode.UP
            assertEquals(2uL, leader.client.sync().pushedApplied)
            assertFalse(leader.client.dispute(d.id).pending)

            Phone("ladder-cadre").use { cadre ->
                cadre.signIn("cadre.t1v1")
                assertNotNull(cadre.client.listDisputes().singleOrNull { it.dispute.id == d.id }, "the village sees it")
                assertTrue(cadre.client.escalationInbox().none { it.escalation.id == esc.id }, "not a cadre's to decide")
                assertNull(cadre.client.allowedActions(d.id).decide)
                val refused = assertFailsWith<FengqiaoException.Rejected> {
                    cadre.client.decideEscalation(esc.id, true, "")
                }
                assertEquals("rejected", refused.code())
                assertEquals("role_not_allowed", refused.reason)
                assertTrue(refused.detail().isNotBlank())
                assertEquals(0uL, cadre.client.syncStatus().pendingOps, "nothing refused was queued")
            }

            Phone("ladder-firstsec").use { sec ->
                sec.signIn("firstsec.t1v1")
                val item = sec.client.escalationInbox().single { it.escalation.id == esc.id }
                assertEquals(d.caseNumber, item.dispute.dispute.caseNumber)
                assertEquals(Level.VILLAGE, item.escalation.toLevel)
                assertEquals(EscalationReason.REPEATED_MEDIATION_FAILED, item.escalation.reason)
                assertEquals(esc.id, sec.client.allowedActions(d.id).decide)

                sec.link.mode = LinkProxy.Mode.DOWN
                val decided = sec.client.decideEscalation(esc.id, true, "同意，村两委接手")
                assertEquals(true, decided.decision?.approved)
                assertTrue(sec.client.escalationInbox().none { it.escalation.id == esc.id }, "decided here: out of the inbox")
                assertEquals(Level.VILLAGE, sec.client.dispute(d.id).dispute.level, "the optimistic view moved it up")
                assertEquals(1uL, sec.client.syncStatus().pendingOps)

                sec.link.mode = LinkProxy.Mode.UP
                val report = sec.client.sync()
                assertEquals(1uL, report.pushedApplied)
                assertEquals(0uL, report.conflicts + report.rejected)
                assertTrue(sec.client.quarantined().isEmpty())
            }

            leader.client.sync()
            val after = leader.client.dispute(d.id)
            assertEquals(Level.VILLAGE, after.dispute.level, "the leader sees the new level")
            assertNull(after.pendingEscalation)
            assertFalse(after.handledByMe, "the village handles it now")
            val file = leader.client.disputeFile(d.id)
            assertEquals(true, file.escalations.single().decision?.approved)
            val flow = leader.client.flowTable(d.id)
            assertEquals(listOf(FlowKind.REPORTED, FlowKind.ESCALATION_REQUESTED, FlowKind.ESCALATION_APPROVED), flow.map { it.kind })
            assertEquals(listOf(1u, 2u, 3u), flow.map { it.step })
            assertEquals(file.flow, flow)
            assertEquals("村", levelLabelZh(Level.VILLAGE))
            assertEquals("一般", gradeLabelZh(Grade.GENERAL))
        }
    }

    test("two approvers race: the loser's inbox history shows the decision that stands, the decider by name") {
        Phone("race-leader").use { leader ->
            leader.signIn("leader.t1v1g2")
            val d = leader.client.reportDispute(neighbourDispute(leader.client.currentUser()!!.roles.single().unitId, "宅基地边界争议"))
            val esc = leader.client.requestEscalation(d.id, Level.VILLAGE, EscalationReason.OUTSIDE_LEVEL_SCOPE, "")
            leader.client.sync()
            Phone("race-secretary").use { sec ->
                Phone("race-firstsec").use { first ->
                    sec.signIn("secretary.t1v1")
                    first.signIn("firstsec.t1v1")
                    val mine = sec.client.decideEscalation(esc.id, true, "村书记同意")
                    assertEquals(sec.client.currentUser()!!.displayName, mine.decision?.decidedByName, "one's own decision, by name")
                    first.client.decideEscalation(esc.id, true, "第一书记同意")
                    assertEquals(1uL, sec.client.sync().pushedApplied)
                    assertEquals(1uL, first.client.sync().conflicts)

                    // not a sync error: the sync screen has nothing quarantined
                    val state = org.fengqiao.app.state.SyncState(org.fengqiao.app.state.CoreGateways(first.client))
                    state.refresh()
                    assertTrue(state.ui.value.quarantined.none { it.kind == "decide_escalation" })
                    val inbox = org.fengqiao.app.state.InboxState(
                        org.fengqiao.app.state.LadderGateways(first.client),
                        org.fengqiao.app.state.CoreApprovals(first.client),
                    )
                    inbox.refresh()
                    val standing = assertNotNull(inbox.ui.value.history.single { it.escalationId == esc.id }.supersededBy)
                    assertEquals(sec.client.currentUser()!!.id, standing.decidedBy)
                    assertEquals(sec.client.currentUser()!!.displayName, standing.decidedByName)
                    assertEquals("村书记同意", standing.comment)
                    assertEquals(standing.decidedByName, first.client.disputeFile(d.id).escalations.single().decision?.decidedByName)
                }
            }
        }
    }

    test("bad arguments and unknown disputes are typed errors") {
        Phone("ladder-errors").use { phone ->
            phone.signIn("leader.t1v1g1")
            val badId = assertFailsWith<FengqiaoException.InvalidInput> { phone.client.dispute("not-an-id") }
            assertEquals("invalid_id", badId.reason)
            val missing = assertFailsWith<FengqiaoException.NotFound> { phone.client.dispute("0190f3c2-0000-7000-8000-000000000001") }
            assertEquals("not_found", missing.code())
            val group = phone.client.currentUser()!!.roles.single().unitId
            val badKind = assertFailsWith<FengqiaoException.InvalidInput> {
                phone.client.reportDispute(neighbourDispute(group).copy(kind = "spaceship"))
            }
            assertEquals("invalid_field", badKind.reason)
            assertEquals(0uL, phone.client.syncStatus().pendingOps)
        }
    }
}
