// A household under its village's rules, through the app's state and the
// bindings against the real server: under rules the judicial office has not
// reviewed, a violation is kept and the cadre's screen says, in the core's
// Chinese, why it carries no sanction; the cadre records the household's
// commitment letter offline, and after a sync the group leader sees it too
// (but never the violations).
package org.fengqiao.jvmtests

import java.time.LocalDate
import java.time.ZoneId
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreVillageRulesGateway
import org.fengqiao.app.state.HouseholdRulesState
import org.fengqiao.core.NewViolation

val villageRulesTests = Suite("village rules").apply {
    test("no sanction under unreviewed rules, with the core's reason; the commitment letter, offline then synced") {
        Phone("rules-leader").use { leader ->
            leader.signIn("leader.t1v1g3")
            val home = leader.client.households().first()
            Phone("rules-cadre").use { cadre ->
                cadre.signIn("cadre.t1v1")
                val state = HouseholdRulesState(CoreVillageRulesGateway(cadre.client), home.id)
                state.load()
                val rules = assertNotNull(state.ui.value.rules, "${state.ui.value.error}")
                assertFalse(rules.rulesLawful)
                assertTrue(rules.rulesStatus.contains("合法性审查"), rules.rulesStatus)
                assertNull(rules.adoption, "the county's default list was never voted in this village")
                assertEquals(emptyList(), state.ui.value.violations)

                cadre.link.mode = LinkProxy.Mode.DOWN
                cadre.client.recordViolation(NewViolation(householdId = home.id, itemCode = "yard_dirty_messy", note = "院内垃圾堆放"))
                val yesterday = LocalDate.now(ZoneId.of("Asia/Shanghai")).minusDays(1).toString()
                state.recordCommitment(false, yesterday)
                assertEquals("invalid_input", state.ui.value.error?.code, "an unsigned letter has no day: the core refuses")
                state.recordCommitment(true, yesterday)
                assertNull(state.ui.value.error, "${state.ui.value.error}")
                val offline = assertNotNull(state.ui.value.rules?.commitment)
                assertTrue(offline.signed && offline.pending, "$offline")
                assertEquals(yesterday, offline.signedOn)

                cadre.link.mode = LinkProxy.Mode.UP
                assertEquals(2uL, cadre.client.sync().pushedApplied)
                state.load()
                val v = state.ui.value.violations!!.single()
                assertFalse(v.sanctioned || v.pending, "$v")
                assertTrue(v.noSanctionReason!!.contains("不予惩戒"), "the core's reason: ${v.noSanctionReason}")
                assertEquals(false, state.ui.value.rules?.commitment?.pending)
                assertFalse(state.ui.value.rules!!.suspended)
            }
            leader.client.sync()
            val seen = HouseholdRulesState(CoreVillageRulesGateway(leader.client), home.id)
            seen.load()
            assertNull(seen.ui.value.error, "${seen.ui.value.error}")
            assertNull(seen.ui.value.violations, "a group leader never sees the violations")
            assertEquals(true, seen.ui.value.rules?.commitment?.signed, "but sees the letter")
            seen.recordCommitment(false, null)
            assertEquals("rejected", seen.ui.value.error?.code, "group leaders do not record letters")
        }
    }
}
