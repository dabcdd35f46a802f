// Failures arrive as typed Kotlin exceptions with stable codes.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.FieldClient
import org.fengqiao.core.NewVisit
import org.fengqiao.core.VisitKind

val errorTests = Suite("errors").apply {
    test("before login, recording fails with not_logged_in") {
        Phone("nologin").use { phone ->
            val e = assertFailsWith<FengqiaoException.NotLoggedIn> {
                phone.client.recordVisit(NewVisit(householdId = "0190f3c2-0000-7000-8000-000000000001", kind = VisitKind.ROUTINE))
            }
            assertEquals("not_logged_in", e.code)
            assertEquals(0uL, phone.client.syncStatus().pendingOps)
        }
    }

    test("domain refusals carry the domain's reason") {
        Phone("domain-errors").use { phone ->
            phone.signIn("leader.t1v1g1")
            val home = phone.client.households().first()

            val foreign = assertFailsWith<FengqiaoException.Rejected> {
                phone.client.recordVisit(NewVisit(householdId = "0190f3c2-0000-7000-8000-000000000001", kind = VisitKind.ROUTINE))
            }
            assertEquals("rejected", foreign.code())
            assertEquals("not_in_jurisdiction", foreign.reason)

            val noLead = assertFailsWith<FengqiaoException.InvalidInput> {
                phone.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.LEAD_FOUND))
            }
            assertEquals("invalid_input", noLead.code())
            assertEquals("invalid_field", noLead.reason)

            val badId = assertFailsWith<FengqiaoException.InvalidInput> {
                phone.client.recordVisit(NewVisit(householdId = "not-an-id", kind = VisitKind.ROUTINE))
            }
            assertEquals("invalid_id", badId.reason)
            assertFailsWith<FengqiaoException.InvalidInput> { phone.client.discardQuarantined("nope") }

            assertEquals(0uL, phone.client.syncStatus().pendingOps, "nothing refused was queued")
        }
    }

    test("a second client on an open data dir fails with code storage") {
        Phone("locked").use { phone ->
            val e = assertFailsWith<FengqiaoException.Storage> { FieldClient(phone.dataDir, phone.link.url, Env.storeKey, Env.fastConfig) }
            assertEquals("storage", e.code())
            assertTrue(e.toString().isNotBlank())
        }
    }

    test("an unreachable server fails login with code network") {
        FieldClient(Env.dataDir("unreachable"), "http://127.0.0.1:9", Env.storeKey, Env.fastConfig).use { client ->
            val e = assertFailsWith<FengqiaoException.Network> { client.login("leader.t1v1g1", "x") }
            assertEquals("network", e.code())
            assertTrue(e.isTransient())
        }
    }
}
