// Judicial review on the phone through the core, with ReviewState against the
// real server: a group leader mediates a case to a resolved close; the judicial
// office's phone finds it in its review queue with the missing items in
// Chinese; a pass is refused by the core naming them; a return with a reason is
// queued offline and synced; the leader's phone reads the return's reasons in
// Chinese (no codes) and is told once that the file came back.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreReviews
import org.fengqiao.app.state.ReviewState
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.Difficulty
import org.fengqiao.core.Grade
import org.fengqiao.core.NewAgreement
import org.fengqiao.core.NewSession
import org.fengqiao.core.NoticeKind

val reviewTests = Suite("judicial review on the phone").apply {
    test("the judicial office returns a file through the core; the leader reads why in Chinese") {
        Phone("review-leader").use { leader ->
            leader.signIn("leader.t2v3g1")
            val group = leader.client.currentUser()!!.roles.single().unitId
            val d = leader.client.reportDispute(neighbourDispute(group, "柴草堆放占道"))
            leader.client.recordSession(NewSession(disputeId = d.id, place = "组里", record = "双方同意挪走柴草", agreed = true))
            leader.client.recordAgreement(NewAgreement(disputeId = d.id, terms = "三日内挪走柴草", obligations = "李四挪走"))
            leader.client.closeDispute(d.id, ClosingOutcome.RESOLVED, "和解")
            val sent = leader.client.sync()
            assertEquals(0uL, sent.rejected + sent.conflicts, "$sent")

            Phone("review-judicial").use { office ->
                office.signIn("judicial.t2")
                val state = ReviewState(CoreReviews(office.client))
                state.refresh()
                val item = state.ui.value.queue.single { it.dispute.dispute.id == d.id }
                assertTrue(item.missing.contains("权利义务告知书"), "${item.missing}")
                assertTrue(item.checklist.any { it.code == "agreement" && it.present }, "${item.checklist}")
                state.open(d.id)
                assertFalse(assertNotNull(state.ui.value.form).passed, "pass not offered while items are missing")

                // a pass is the core's to refuse, naming what is missing
                state.setPassed(true)
                assertFalse(state.submit())
                val refused = assertNotNull(state.ui.value.error)
                assertEquals("invalid_input", refused.code)
                assertTrue(refused.message.contains("权利义务告知书"), refused.message)

                office.link.mode = LinkProxy.Mode.DOWN
                state.setPassed(false)
                state.setReasons("调解笔录缺当事人签字\n")
                assertTrue(state.submit(), "${state.ui.value.error}")
                assertTrue(state.ui.value.queue.none { it.dispute.dispute.id == d.id }, "reviewed, waiting to be sent")
                office.link.mode = LinkProxy.Mode.UP
                assertEquals(1uL, office.client.sync().pushedApplied)
            }

            leader.client.sync()
            val reviews = leader.client.caseReviews(d.id)
            val returned = reviews.single()
            assertFalse(returned.review.passed)
            assertTrue(returned.reasons.contains("调解笔录缺当事人签字"), "${returned.reasons}")
            assertTrue(returned.reasons.contains("缺少“权利义务告知书”"), "${returned.reasons}")
            assertTrue(returned.reasons.none { it.startsWith("missing:") }, "no codes on the screen")
            val told = leader.client.pendingNotices().filter { it.kind == NoticeKind.CASE_FILE_RETURNED && it.disputeId == d.id }
            assertEquals(1, told.size, "${leader.client.pendingNotices()}")
            assertEquals("案卷被退回", told.single().title)
            assertTrue(told.single().body.contains("缺少“权利义务告知书”"), told.single().body)
            assertEquals(0uL, leader.client.sync().newNotices)
        }
    }
    test("a correction of grade or difficulty on the phone needs a reason; with one it reaches the server") {
        Phone("review-leader-2").use { leader ->
            leader.signIn("leader.t2v3g3")
            val group = leader.client.currentUser()!!.roles.single().unitId
            val d = leader.client.reportDispute(neighbourDispute(group, "鸡鸭啄食菜地"))
            leader.client.recordSession(NewSession(disputeId = d.id, place = "组里", record = "赔偿菜苗", agreed = true))
            leader.client.closeDispute(d.id, ClosingOutcome.RESOLVED, "和解")
            assertEquals(0uL, leader.client.sync().let { it.rejected + it.conflicts })

            Phone("review-judicial-2").use { office ->
                office.signIn("judicial.t2")
                val state = ReviewState(CoreReviews(office.client))
                state.refresh()
                state.open(d.id)
                state.setPassed(false)
                state.setReasons("笔录不全")
                state.setGrade(Grade.LARGER)
                state.setDifficulty(Difficulty.HIGH)
                // no reason for the correction: the core refuses as the server would, in Chinese
                assertFalse(state.submit())
                val refused = assertNotNull(state.ui.value.error)
                assertEquals("rejected", refused.code)
                assertTrue(refused.message.contains("理由"), refused.message)
                assertTrue(office.client.caseReviews(d.id).isEmpty(), "nothing queued")

                state.setCorrectionReason("涉及多户，应为较大纠纷")
                assertTrue(state.submit(), "${state.ui.value.error}")
                assertEquals(1uL, office.client.sync().pushedApplied)
            }

            leader.client.sync()
            val review = leader.client.caseReviews(d.id).single().review
            assertEquals(Grade.LARGER, review.reviewedGrade)
            assertEquals(Difficulty.HIGH, review.reviewedDifficulty)
            assertEquals("涉及多户，应为较大纠纷", review.correctionReason)
        }
    }
}
