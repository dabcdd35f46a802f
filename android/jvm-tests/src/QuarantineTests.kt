// Operations the server refuses: kept in quarantine where the user sees them,
// retried or discarded only on request. The test server runs a county policy
// stricter than the app's bundled default (visit notes at most 100 characters,
// set by tests/kotlin-jvm.sh) and these phones keep their bundled policy
// (`adoptServerPolicy = false`), so a visit the phone accepts is refused by the
// server: as when a county tightens its policy before the phones have synced.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.NewVisit
import org.fengqiao.core.VisitKind

const val SERVER_MAX_NOTES = 100

val quarantineTests = Suite("quarantine").apply {
    test("a refused visit is quarantined, listed, retried, then discarded") {
        Phone("quarantine", Env.pinnedPolicyConfig).use { phone ->
            phone.signIn("leader.t1v2g1")
            val home = phone.client.households().first()
            val long = "邻里纠纷调解记录".repeat(SERVER_MAX_NOTES / 8 + 5)
            val v = phone.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.ROUTINE, notes = long))

            val report = phone.client.sync()
            assertEquals(1uL, report.rejected)
            val q = phone.client.quarantined().single()
            assertEquals("record_visit", q.kind)
            assertEquals(v.id, q.recordId)
            assertEquals("text_too_long", q.code)
            assertTrue(q.message.isNotBlank())
            assertTrue(q.quarantinedAtMs > 0)
            assertEquals(listOf(q), phone.client.syncStatus().quarantined)
            val item = phone.client.listVisits(50u).single { it.visit.id == v.id }
            assertTrue(item.pending && item.quarantined, "shown to the user as refused: $item")

            phone.client.retryQuarantined(q.opId)
            assertTrue(phone.client.quarantined().isEmpty())
            assertEquals(1uL, phone.client.syncStatus().pendingOps)
            assertEquals(1uL, phone.client.sync().rejected, "the server refuses it again")

            phone.client.discardQuarantined(phone.client.quarantined().single().opId)
            assertTrue(phone.client.quarantined().isEmpty())
            assertTrue(phone.client.listVisits(50u).none { it.visit.id == v.id }, "discarded with its record")
            assertEquals(0uL, phone.client.syncStatus().pendingOps)

            val missing = assertFailsWith<FengqiaoException.NotFound> { phone.client.retryQuarantined(q.opId) }
            assertEquals("not_found", missing.code())
        }
    }
}
