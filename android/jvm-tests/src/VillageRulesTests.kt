// A household under its village's rules, through the app's state and the
// bindings against the real server: under rules the judicial office has not
// reviewed, a violation is kept and the cadre's screen says, in the core's
// Chinese, why it carries no sanction; the cadre records the household's
// commitment letter offline, and after a sync the group leader sees it too
// (but never the violations).
package org.fengqiao.jvmtests

import java.nio.ByteBuffer
import java.security.MessageDigest
import java.time.LocalDate
import java.time.ZoneId
import java.util.UUID
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

    test("adopted by vote and reviewed as lawful: the phone shows the vote and the status; a new violation is sanctioned") {
        val secretary = Phone("rules-secretary").also { it.signIn("secretary.t1v2") }
        val judicial = Phone("rules-judicial").also { it.signIn("judicial.t1") }
        secretary.use { sec ->
            judicial.use { jud ->
                val village = sec.client.currentUser()!!.roles.single().unitId
                val rules = """{"id":"${rulesId(village)}","village_id":"$village","legality_reviewed":false,
                    "items":[{"code":"yard_dirty_messy","label_zh":"村庄卫生脏乱差","correction_days":0,
                    "sanctions":[{"type":"services_suspended","services":["村级福利"]}]}],
                    "adoption":{"meeting_date":"${LocalDate.now(ZoneId.of("Asia/Shanghai")).minusDays(3)}","members":30,
                    "present":25,"votes_for":22,"votes_against":1,"abstentions":2}}"""
                assertEquals("applied", AdminApi.pushOp(AdminApi.token("secretary.t1v2"), sec.client.currentUser()!!.id, "set_village_rules", rules))
                val review = """{"village_id":"$village","reviewed":true}"""
                assertEquals("applied", AdminApi.pushOp(AdminApi.token("judicial.t1"), jud.client.currentUser()!!.id, "review_village_rules", review))
            }
        }
        Phone("rules-cadre-v2").use { cadre ->
            cadre.signIn("cadre.t1v2")
            val home = cadre.client.households().first()
            val state = HouseholdRulesState(CoreVillageRulesGateway(cadre.client), home.id)
            state.load()
            val r = assertNotNull(state.ui.value.rules, "${state.ui.value.error}")
            assertTrue(r.rulesLawful, r.rulesStatus)
            assertTrue(r.rulesStatus.contains("经司法所合法性审查") && !r.rulesStatus.contains("尚未"), r.rulesStatus)
            val vote = assertNotNull(r.adoption)
            assertEquals(listOf(30, 25, 22, 1, 2), listOf(vote.members, vote.present, vote.votesFor, vote.votesAgainst, vote.abstentions))
            assertFalse(r.suspended)

            cadre.client.recordViolation(NewViolation(householdId = home.id, itemCode = "yard_dirty_messy", note = "院内垃圾堆放"))
            assertEquals(1uL, cadre.client.sync().pushedApplied)
            state.load()
            val v = state.ui.value.violations!!.single()
            assertTrue(v.sanctioned, "$v")
            assertNull(v.noSanctionReason)
            assertTrue(state.ui.value.rules!!.suspended, "no correction period: village welfare suspended at once")
        }
    }
}

/** The id of a village's rule set: UUIDv5 (SHA-1) in the OID namespace of `rules:` + the village's 16 bytes (the wire's). */
fun rulesId(village: String): String {
    fun bytes(u: UUID) = ByteBuffer.allocate(16).putLong(u.mostSignificantBits).putLong(u.leastSignificantBits).array()
    val sha = MessageDigest.getInstance("SHA-1")
    sha.update(bytes(UUID.fromString("6ba7b812-9dad-11d1-80b4-00c04fd430c8")))
    sha.update("rules:".toByteArray())
    sha.update(bytes(UUID.fromString(village)))
    val h = sha.digest().copyOf(16)
    h[6] = ((h[6].toInt() and 0x0f) or 0x50).toByte()
    h[8] = ((h[8].toInt() and 0x3f) or 0x80).toByte()
    val b = ByteBuffer.wrap(h)
    return UUID(b.long, b.long).toString()
}
