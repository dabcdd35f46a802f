// One case, one subsidy, and the prevention work, through the bindings against
// the real server. A mediator handles a village-level dispute offline (reports
// it, records a session, closes it resolved), sees the estimate at once, and
// after a sync reads one accrued subsidy with the amount of the county's
// formula; another village's mediator sees none. A fresh household is in good
// standing; a cadre records a violation and files the screening; a group
// leader sees the standing, never the history.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.core.Analysis
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.Difficulty
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.Grade
import org.fengqiao.core.Level
import org.fengqiao.core.NewDispute
import org.fengqiao.core.NewScreening
import org.fengqiao.core.NewSession
import org.fengqiao.core.NewViolation
import org.fengqiao.core.Party
import org.fengqiao.core.Sanction
import org.fengqiao.core.SubsidyStatus

/**
 * The subsidy of a resolved larger land dispute of medium difficulty under the
 * seed policy (`fengqiao_domain::subsidy::amount_fen` at full quality):
 * base for a larger case 20 000 fen + medium difficulty 5 000 fen, no
 * social-impact bonus for `land`.
 */
const val LARGER_MEDIUM_LAND_FEN = 20_000L + 5_000L

val subsidyPreventTests = Suite("subsidies and prevention").apply {
    test("a mediator resolves a village case and reads one accrued subsidy; another mediator sees none") {
        Phone("subsidy-mediator").use { mediator ->
            mediator.signIn("mediator.t1v1")
            val village = mediator.client.currentUser()!!.roles.single().unitId
            assertTrue(mediator.client.mySubsidies().items.isEmpty(), "nothing resolved yet")

            mediator.link.mode = LinkProxy.Mode.DOWN
            val d = mediator.client.reportDispute(
                NewDispute(
                    kind = "land",
                    originUnit = village,
                    parties = listOf(Party(name = "赵六"), Party(name = "孙七")),
                    summary = "两组之间承包地界桩移位",
                    grade = Grade.LARGER,
                    analysis = Analysis(cause = "界桩移位", consequences = "影响春耕", difficulty = Difficulty.MEDIUM),
                    level = Level.VILLAGE,
                ),
            )
            assertEquals(Level.VILLAGE, d.level)
            assertEquals(village, d.originUnit)
            val s = mediator.client.recordSession(NewSession(disputeId = d.id, record = "双方同意重新立界桩", agreed = true, place = "村委会"))
            assertEquals(listOf(mediator.client.currentUser()!!.id), s.mediators)
            val closed = mediator.client.closeDispute(d.id, ClosingOutcome.RESOLVED, "和解")
            assertEquals(ClosingOutcome.RESOLVED, closed.closing?.outcome)

            val offline = mediator.client.mySubsidies()
            assertTrue(offline.items.isEmpty(), "the server accrues it")
            val estimate = offline.estimates.single()
            assertEquals(d.id, estimate.disputeId)
            assertEquals(LARGER_MEDIUM_LAND_FEN, estimate.amountFen, "the formula, offline")

            mediator.link.mode = LinkProxy.Mode.UP
            assertEquals(3uL, mediator.client.sync().pushedApplied)
            val mine = mediator.client.mySubsidies()
            val line = mine.items.single()
            assertFalse(line.overdue)
            val item = line.subsidy
            assertEquals(SubsidyStatus.ACCRUED, item.status)
            assertEquals(LARGER_MEDIUM_LAND_FEN, item.amountFen)
            assertEquals(d.caseNumber, item.caseNumber)
            assertEquals(d.id, item.disputeId)
            assertEquals("", item.reason)
            assertTrue(item.accruedAtMs > 0)
            assertTrue(mine.estimates.isEmpty(), "the real subsidy replaces the estimate")
            assertEquals(LARGER_MEDIUM_LAND_FEN, mine.totalFen)
            val byStatus = mine.byStatus.single()
            assertEquals(SubsidyStatus.ACCRUED, byStatus.status)
            assertEquals(1u, byStatus.count)
            val month = mine.byMonth.single()
            assertTrue(Regex("\\d{4}-\\d{2}").matches(month.month), month.month)
            assertEquals(LARGER_MEDIUM_LAND_FEN, month.totalFen)

            mediator.link.mode = LinkProxy.Mode.DOWN
            assertEquals(mine, mediator.client.mySubsidies(), "readable offline after the sync")
        }
        Phone("subsidy-other").use { other ->
            other.signIn("mediator.t1v2")
            val theirs = other.client.mySubsidies()
            assertTrue(theirs.items.isEmpty() && theirs.estimates.isEmpty(), "another mediator sees none: $theirs")
            assertEquals(0L, theirs.totalFen)
        }
    }

    test("standing, violations and the screening: a cadre records, a group leader sees only the standing") {
        Phone("prevent-leader").use { leader ->
            leader.signIn("leader.t1v1g2")
            val home = leader.client.households().first()
            assertFalse(leader.client.householdStanding(home.id), "a fresh household is in good standing")
            val never = assertFailsWith<FengqiaoException.Rejected> { leader.client.violationsFor(home.id) }
            assertEquals("role_not_allowed", never.reason)
            assertNull(leader.client.screeningDue(), "group leaders do not file screenings")

            Phone("prevent-cadre").use { cadre ->
                cadre.signIn("cadre.t1v1")
                val due = assertNotNull(cadre.client.screeningDue(), "the village owes this period's screening")
                assertEquals(cadre.client.currentUser()!!.roles.single().unitId, due.villageId)
                val items = cadre.client.negativeList(home.id)
                val water = items.single { it.code == "water_fees_unpaid" }
                assertTrue(water.sanctions.any { it is Sanction.ServicesSuspended }, "$water")

                cadre.link.mode = LinkProxy.Mode.DOWN
                val v = cadre.client.recordViolation(NewViolation(householdId = home.id, itemCode = water.code, note = "连续三个月未缴水费"))
                assertTrue(cadre.client.violationsFor(home.id).single().pending)
                val filed = cadre.client.fileScreening(
                    NewScreening(villageId = due.villageId, hazards = listOf("承包地界桩"), focusAreas = cadre.client.focusAreas().take(1).map { it.code }),
                )
                assertEquals(due.period, filed.period)
                assertNull(cadre.client.screeningDue(), "filed here counts before the sync")
                val bad = assertFailsWith<FengqiaoException.InvalidInput> {
                    cadre.client.recordViolation(NewViolation(householdId = home.id, itemCode = "not_on_the_list", note = "x"))
                }
                assertEquals("invalid_field", bad.reason)

                cadre.link.mode = LinkProxy.Mode.UP
                assertEquals(2uL, cadre.client.sync().pushedApplied)
                val synced = cadre.client.violationsFor(home.id).single()
                assertFalse(synced.pending)
                assertEquals(v.id, synced.violation.id)
                assertTrue(synced.violation.sanctionsFromMs > synced.violation.notifiedAtMs, "a correction period first")
                assertNull(cadre.client.screeningDue())
                val notRestorer = assertFailsWith<FengqiaoException.Rejected> { cadre.client.restoreHousehold(v.id, "已缴清") }
                assertEquals("role_not_allowed", notRestorer.reason)
            }

            leader.client.sync()
            assertFalse(leader.client.householdStanding(home.id), "suspension starts only after the correction period")
            assertFailsWith<FengqiaoException.Rejected> { leader.client.violationsFor(home.id) }
        }
    }
}
