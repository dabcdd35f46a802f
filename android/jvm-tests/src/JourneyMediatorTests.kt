// The mediator's and the legal advisor's journeys through the app's state
// classes on the real server. The village mediator closes the case the group
// leader escalated (JourneyLeaderTests.kt); the judicial office's phone returns
// the file for a missing paper (ReviewState, through the core); the mediator is
// told once, and the case screen lists the missing paper in Chinese, the subsidies screen shows the subsidy held with the reason in
// Chinese as an estimate; the mediator photographs the paper, the file is
// ready for review again and passes; the county batches and pays it; the
// subsidies screen shows it final and paid, with the date and the payment
// reference, and opens its case; the phone tells "paid" once, with the date
// and the reference, and a further sync tells nothing new. A legal advisor logs a consultation offline
// and, once synced, it reaches the county's subsidy ledger.
package org.fengqiao.jvmtests

import java.util.UUID
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CaseWorkState
import org.fengqiao.app.state.ConsultationState
import org.fengqiao.app.state.CoreFieldGateways
import org.fengqiao.app.state.CoreNotifications
import org.fengqiao.app.state.CoreReviews
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.app.state.LocalCodes
import org.fengqiao.app.state.NotificationsState
import org.fengqiao.app.state.ReviewState
import org.fengqiao.app.state.SubsidiesState
import org.fengqiao.app.state.SubsidyStatusCode
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.ConsultationOutcome
import org.fengqiao.core.NoticeKind
import org.fengqiao.core.Satisfaction

/** The mediator's part of the scripted journey, from the village taking the case up to the payment. */
suspend fun mediatorTakesItToPayment(disputeId: String) {
    Phone("journey-mediator").use { m -> Phone("journey-judicial").use { office ->
        m.signIn(JourneyCast.MEDIATOR)
        office.signIn(JourneyCast.JUDICIAL)
        val told = NotificationsState(CoreNotifications(m.client))
        val work = CaseWorkState(CoreFieldGateways(m.client), disputeId)
        work.load()
        assertNull(work.ui.value.error, "${work.ui.value.error}")
        assertTrue(work.ui.value.canRecord && work.ui.value.canClose, "the village handles it now: ${work.ui.value.actions}")
        assertTrue(work.recordSession("双方同意共同疏通并分摊费用", agreed = true, place = "村委会"), "${work.ui.value.error}")
        assertTrue(work.recordAgreement("两家共同疏通排水沟", 20_000, "各出一半费用", listOf(paperPhoto(m, 33_000))), "${work.ui.value.error}")
        // one paper of the checklist photographed; the identity papers are forgotten
        assertTrue(work.filePaper("rights_notice", paperPhoto(m, 34_000)), "${work.ui.value.error}")
        val missingBefore = work.ui.value.missing.map { it.code }
        assertTrue("identity_documents" in missingBefore && "rights_notice" !in missingBefore, "$missingBefore")
        assertTrue(work.close(ClosingOutcome.RESOLVED, "和解，协议已签"), "${work.ui.value.error}")
        assertFalse(work.ui.value.canClose, "closed")
        syncClean(m)

        // the judicial office's phone returns the file; the core adds the missing paper to the reasons
        val review = ReviewState(CoreReviews(office.client))
        syncClean(office)
        review.refresh()
        val queued = review.ui.value.queue.single { it.dispute.dispute.id == disputeId }
        assertEquals(listOf("当事人身份证明"), queued.missing)
        review.open(disputeId)
        assertFalse(assertNotNull(review.ui.value.form).passed, "pass not offered while a paper is missing")
        review.setReasons("请补齐后再报")
        assertTrue(review.submit(), "${review.ui.value.error}")
        syncClean(office)
        syncClean(m)
        work.load()
        val reasons = work.ui.value.returnedReasons
        assertTrue(reasons.any { it == "缺少“当事人身份证明”" }, "the reason in Chinese, by the paper's name: $reasons")
        assertTrue(reasons.none { it.contains("missing") || it.contains("identity_documents") }, "no code on screen: $reasons")
        // the mediator is told once that the file came back, why in Chinese
        told.load()
        val returned = told.ui.value.pending.filter { it.disputeId == disputeId && it.kind == NoticeKind.CASE_FILE_RETURNED }
        assertEquals(1, returned.size, "${told.ui.value.pending}")
        assertEquals("案卷被退回", returned.single().title)
        assertTrue(returned.single().body.contains("缺少“当事人身份证明”") && !returned.single().body.contains("missing"), returned.single().body)
        assertEquals(listOf("当事人身份证明"), work.ui.value.missing.map { it.label })
        assertFalse(work.ui.value.readyForReview)
        val subsidies = SubsidiesState(LadderGateways(m.client))
        subsidies.refresh()
        val held = subsidies.ui.value.rows.single { it.disputeId == disputeId }
        assertEquals(SubsidyStatusCode.UNDER_REVIEW, held.status)
        assertFalse(held.isFinal, "an estimate until the file passes")
        assertTrue(held.reasonText.contains("当事人身份证明") && !held.reasonText.contains("missing"), held.reasonText)

        // the missing paper photographed and filed: ready for review again
        assertTrue(work.filePaper(work.ui.value.missing.single().code, paperPhoto(m, 35_000)), "${work.ui.value.error}")
        assertEquals(emptyList(), work.ui.value.missing)
        assertTrue(work.ui.value.readyForReview, "returned and complete: waits for the review again")
        syncClean(m)
        syncClean(office)
        review.refresh()
        assertEquals(emptyList(), review.ui.value.queue.single { it.dispute.dispute.id == disputeId }.missing)
        review.open(disputeId)
        assertTrue(assertNotNull(review.ui.value.form).passed, "nothing missing: pass offered")
        assertTrue(review.submit(), "${review.ui.value.error}")
        syncClean(office)
        assertTrue(review.ui.value.queue.none { it.dispute.dispute.id == disputeId }, "passed: out of the queue")
        syncClean(m)
        work.load()
        assertEquals(true, work.ui.value.checklist?.lastReview?.review?.passed)
        assertFalse(work.ui.value.readyForReview)

        // the county batches and pays it
        subsidies.refresh()
        val approved = subsidies.ui.value.rows.single { it.disputeId == disputeId }
        assertEquals(SubsidyStatusCode.APPROVED, approved.status)
        assertTrue(approved.isFinal)
        val admin = AdminApi.token("admin")
        val batch = UUID.randomUUID().toString()
        assertEquals("applied", AdminApi.pushOp(admin, userIdOf(admin), "create_payment_batch", """{"id":"$batch","subsidy_ids":["${approved.id}"]}"""))
        val ref = "NX-${System.currentTimeMillis()}"
        assertEquals("applied", AdminApi.pushOp(admin, userIdOf(admin), "mark_batch_paid", """{"batch_id":"$batch","payment_ref":"$ref"}"""))
        syncClean(m)
        subsidies.refresh()
        val paid = subsidies.ui.value.rows.single { it.disputeId == disputeId }
        assertEquals(SubsidyStatusCode.PAID, paid.status)
        assertTrue(paid.isFinal)
        assertEquals(ref, paid.paymentRef, "the payment reference")
        val paidAt = assertNotNull(paid.paidAtMs, "the paid date")
        assertTrue(m.client.formatDate(paidAt).isNotBlank())
        // the phone tells "paid" once, with the date and the payment reference
        told.load()
        val paidNotices = told.ui.value.pending.filter { it.disputeId == disputeId && it.kind == NoticeKind.SUBSIDY_PAID }
        assertEquals(1, paidNotices.size, "${told.ui.value.pending}")
        val n = paidNotices.single()
        assertEquals("补贴已发放", n.title)
        assertEquals(ref, n.paymentRef)
        assertEquals(paidAt, n.atMs)
        assertTrue(n.body.contains(ref) && n.body.contains(m.client.formatDate(paidAt)), n.body)
        assertTrue(told.deliver { it.key == n.key } == 1 && told.ui.value.pending.none { it.key == n.key }, "raised and acknowledged")
        m.client.sync()
        assertTrue(m.client.refreshNotices().none { it.disputeId == disputeId }, "synced again: nothing new about the case")
        assertTrue(m.client.pendingNotices().none { it.kind == NoticeKind.SUBSIDY_PAID && it.disputeId == disputeId }, "paid told once")
        assertTrue(subsidies.ui.value.totals.paidFen >= paid.amountFen)
        assertTrue(subsidies.ui.value.months.isNotEmpty() && subsidies.ui.value.byMonth.any { it.status == SubsidyStatusCode.PAID })
        // the row opens its case
        val opened = CaseWorkState(CoreFieldGateways(m.client), assertNotNull(paid.disputeId))
        opened.load()
        assertEquals(paid.caseNumber, opened.ui.value.file?.item?.dispute?.caseNumber)
    } }
}

val journeyMediatorTests = Suite("journeys: legal advisor").apply {
    test("a legal advisor logs a consultation offline; it reaches the county's ledger and the advisor's subsidies") {
        Phone("journey-advisor").use { a ->
            a.signIn(JourneyCast.ADVISOR)
            val state = ConsultationState(CoreFieldGateways(a.client))
            state.load()
            a.link.mode = LinkProxy.Mode.DOWN
            state.setQuestion("土地流转合同到期后能否续签")
            state.setAnswer("可协商续签，须签书面合同")
            assertFalse(state.record(), "no outcome chosen")
            assertEquals(LocalCodes.OUTCOME_REQUIRED, state.ui.value.error?.code)
            state.chooseOutcome(ConsultationOutcome.SOLVED)
            state.chooseSatisfaction(Satisfaction.SATISFIED)
            assertTrue(state.record(), "${state.ui.value.error}")
            val logged = state.ui.value.mine.single()
            assertTrue(logged.pending)
            assertEquals("", state.ui.value.question, "the form empties")

            a.link.mode = LinkProxy.Mode.UP
            syncClean(a)
            state.load()
            assertFalse(state.ui.value.mine.single().pending)
            val subsidies = SubsidiesState(LadderGateways(a.client))
            subsidies.refresh()
            val row = subsidies.ui.value.rows.single { it.consultationId == logged.consultation.id }
            assertEquals(SubsidyStatusCode.ACCRUED, row.status)
            assertFalse(row.isFinal, "an estimate until the judicial office reviews it")
            val ledger = AdminApi.get(AdminApi.token("admin"), "/v1/subsidies/ledger?format=json")
            assertTrue(ledger.contains(row.caseNumber), "the consultation's line in the ledger: ${row.caseNumber}")
        }
    }
}
