// Re-grading and the case-file review's correction as the mediator's phone sees
// them, through the bindings and the dispute screen's state against the real
// server. The village mediator handling a dispute re-grades it (grade, cause,
// difficulty) with the form the core offers; without a reason the core refuses
// it `correction_reason_required` with its Chinese message and queues nothing;
// with one it syncs and the server's flow table shows the entry. The case is
// mediated, its file completed and closed: the phone's estimate and then the
// accrued subsidy are priced from the re-graded values. The judicial office's
// review (pushed as a raw `review_case_file` op: the phone core has no review
// call, reviewing is the office's desk work) corrects grade and difficulty; a
// correction without a reason is refused. After a sync the mediator's phone
// shows the reviewed grade and difficulty, the review's flow entry, and the
// subsidy approved at the amount the reviewed values and the file's quality price.
package org.fengqiao.jvmtests

import java.time.Instant
import java.time.ZoneId
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.DisputeDetailState
import org.fengqiao.app.state.DisputeDifficulty
import org.fengqiao.app.state.DisputeGrade
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.app.state.SubsidiesState
import org.fengqiao.app.state.SubsidyStatusCode
import org.fengqiao.core.Analysis
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.Difficulty
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.FlowKind
import org.fengqiao.core.Grade
import org.fengqiao.core.Level
import org.fengqiao.core.NewAgreement
import org.fengqiao.core.NewDispute
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewSession
import org.fengqiao.core.Party
import org.fengqiao.core.SubsidyStatus

/**
 * The seed policy's subsidy (`fengqiao_domain::subsidy::amount_fen`) of a
 * `neighbour` case (no social-impact bonus) as the handler re-grades it,
 * 重大 / 高难度 at full quality: base 30 000 fen + difficulty 10 000 fen.
 */
const val MAJOR_HIGH_NEIGHBOUR_FEN = 30_000L + 10_000L

/** The review's score of the file: 75–89 is 80 % in the seed quality table. */
const val REVIEW_SCORE = 80

/**
 * The same case as the review corrects it, 一般 / 中等难度, at the file's
 * quality: (base 10 000 + difficulty 5 000) × 80 %.
 */
const val REVIEWED_GENERAL_MEDIUM_FEN = (10_000L + 5_000L) * 80 / 100

val regradeTests = Suite("re-grading and the case-file review").apply {
    test("the handler re-grades with a reason; the review corrects it; the phone sees the reviewed grade and its subsidy") {
        Phone("regrade-mediator").use { m ->
            m.signIn("mediator.t2v3")
            val village = m.client.currentUser()!!.roles.single().unitId
            val d = m.client.reportDispute(
                NewDispute(
                    kind = "neighbour",
                    originUnit = village,
                    parties = listOf(Party(name = "钱八"), Party(name = "郑九")),
                    summary = "院墙滴水引发争执",
                    grade = Grade.GENERAL,
                    analysis = Analysis(cause = "院墙滴水", consequences = "口角", difficulty = Difficulty.LOW),
                    level = Level.VILLAGE,
                ),
            )

            // the re-grade form, as the core offers it, starts from the recorded values
            val detail = DisputeDetailState(LadderGateways(m.client), d.id)
            detail.load()
            assertTrue(detail.ui.value.canRegrade, "the handler at the dispute's level may re-grade")
            detail.startRegrade()
            val form = assertNotNull(detail.ui.value.regrade)
            assertEquals(DisputeGrade.GENERAL, form.grade)
            assertEquals(DisputeDifficulty.LOW, form.analysis.difficulty)
            assertEquals("院墙滴水", form.analysis.cause)
            detail.setRegradeGrade(DisputeGrade.MAJOR)
            detail.setRegradeDifficulty(DisputeDifficulty.HIGH)
            detail.setRegradeCause("院墙滴水，牵涉宅基地边界")

            // no reason: the core's rule, the core's code and Chinese message; nothing queued
            assertFalse(detail.regrade(), "refused without a reason")
            val shown = assertNotNull(detail.ui.value.error)
            assertEquals("rejected", shown.code)
            assertTrue(shown.message.contains("理由"), shown.message)
            assertNotNull(detail.ui.value.regrade, "the form stays open")
            val refused = assertFailsWith<FengqiaoException.Rejected> {
                m.client.regradeDispute(d.id, Grade.MAJOR, Analysis("院墙滴水，牵涉宅基地边界", "口角", Difficulty.HIGH), "  ")
            }
            assertEquals("correction_reason_required", refused.reason)
            assertTrue(refused.detail().contains("理由"), refused.detail())
            assertEquals(1uL, m.client.syncStatus().pendingOps, "only the report is queued")

            val reason = "查明涉及宅基地边界，双方家族介入"
            detail.setRegradeReason(reason)
            assertTrue(detail.regrade(), "${detail.ui.value.error}")
            assertNull(detail.ui.value.regrade, "the form closes")
            assertTrue(detail.ui.value.regraded)
            assertEquals(DisputeGrade.MAJOR, detail.ui.value.detail?.row?.grade, "the phone shows the new grade at once")
            assertEquals(DisputeDifficulty.HIGH, detail.ui.value.detail?.analysis?.difficulty)

            assertEquals(2uL, m.client.sync().pushedApplied, "the report and the re-grade")
            val flow = m.client.flowTable(d.id)
            assertEquals(listOf(FlowKind.REPORTED, FlowKind.REGRADED), flow.map { it.kind })
            assertTrue(flow.last().note.contains(reason), flow.last().note)
            val month = Instant.ofEpochMilli(flow.last().atMs).atZone(ZoneId.of("Asia/Shanghai"))
            val served = AdminApi.get(
                AdminApi.token("mediator.t2v3"),
                "/v1/reports/flow?unit=$village&month=%04d-%02d&format=json".format(month.year, month.monthValue),
            )
            assertTrue(served.contains("重新定级研判") && served.contains(reason), "the server's flow table: $served")

            // mediated, the file completed, closed resolved: priced from the re-graded values
            m.client.recordSession(NewSession(disputeId = d.id, record = "双方同意加装排水槽", agreed = true, place = "村委会"))
            m.client.recordAgreement(NewAgreement(disputeId = d.id, terms = "加装排水槽", obligations = "钱八出工"))
            for ((i, item) in listOf("rights_notice", "identity_documents").withIndex()) {
                val photo = fakeJpeg(m.dataDir, 20_000 + i)
                m.client.attachCaseFilePhoto(
                    NewPhoto(targetKind = "dispute", targetId = d.id, sourcePath = photo.path, contentType = "image/jpeg", caption = item),
                    item,
                )
            }
            m.client.closeDispute(d.id, ClosingOutcome.RESOLVED, "和解")
            detail.load()
            assertFalse(detail.ui.value.canRegrade, "closed: not offered")
            assertEquals(MAJOR_HIGH_NEIGHBOUR_FEN, m.client.mySubsidies().estimates.single().amountFen, "the estimate, offline")
            val closing = m.client.sync()
            assertEquals(0uL, closing.rejected + closing.conflicts, "$closing")
            val accrued = m.client.mySubsidies().items.single().subsidy
            assertEquals(SubsidyStatus.ACCRUED, accrued.status)
            assertEquals(MAJOR_HIGH_NEIGHBOUR_FEN, accrued.amountFen, "accrued at the handler's grade until reviewed")

            // the judicial office's case-file review corrects grade and difficulty
            val judicialId = Phone("regrade-judicial").use { j ->
                j.signIn("judicial.t2")
                j.client.currentUser()!!.id
            }
            val office = AdminApi.token("judicial.t2")
            fun review(correctionReason: String) = AdminApi.pushOp(
                office, judicialId, "review_case_file",
                """{"id":"${java.util.UUID.randomUUID()}","dispute_id":"${d.id}","score":$REVIEW_SCORE,"passed":true,""" +
                    """"reviewed_grade":"general","reviewed_difficulty":"medium","correction_reason":"$correctionReason"}""",
            )
            assertEquals("rejected", review(""), "a correction needs a reason")
            val correction = "院墙滴水属一般邻里纠纷，双方当场和解，难度中等"
            assertEquals("applied", review(correction))

            // the mediator's phone after a sync: the reviewed values and their price
            m.client.sync()
            val after = m.client.dispute(d.id).dispute
            assertEquals(Grade.GENERAL, after.grade, "the reviewed grade")
            assertEquals(Difficulty.MEDIUM, after.analysis.difficulty, "the reviewed difficulty")
            val reviewed = m.client.flowTable(d.id).last()
            assertEquals(FlowKind.CASE_REVIEWED, reviewed.kind)
            assertTrue(reviewed.note.contains(correction), reviewed.note)
            val mine = m.client.mySubsidies()
            assertTrue(mine.estimates.isEmpty(), "the subsidy replaces the estimate")
            val approved = mine.items.single().subsidy
            assertEquals(SubsidyStatus.APPROVED, approved.status, "final once the file passed")
            assertEquals(REVIEWED_GENERAL_MEDIUM_FEN, approved.amountFen, "priced from the reviewed values only")

            detail.load()
            assertEquals(DisputeGrade.GENERAL, detail.ui.value.detail?.row?.grade)
            assertEquals(DisputeDifficulty.MEDIUM, detail.ui.value.detail?.analysis?.difficulty)
            assertFalse(detail.ui.value.canRegrade, "closed: no re-grade offered")
            val screen = SubsidiesState(LadderGateways(m.client))
            screen.refresh()
            val row = screen.ui.value.rows.single()
            assertEquals(SubsidyStatusCode.APPROVED, row.status)
            assertEquals(REVIEWED_GENERAL_MEDIUM_FEN, row.amountFen)
            assertEquals(REVIEWED_GENERAL_MEDIUM_FEN, screen.ui.value.totals.owedFen)
        }
    }
}
