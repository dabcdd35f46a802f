// The field work's state classes on their edges, with gateways that fail or
// answer late on purpose (over the real client where a record is needed): a
// photo the core refuses does not undo a report; a refused report shows the
// core's code and message and takes no case number; a search answer that
// arrives after the user typed on is not shown; the agreement is not recorded
// when a signature photo is refused.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.yield
import org.fengqiao.app.state.CaseWorkGateway
import org.fengqiao.app.state.CaseWorkState
import org.fengqiao.app.state.ChosenPhoto
import org.fengqiao.app.state.CoreFieldGateways
import org.fengqiao.app.state.HouseholdSearchGateway
import org.fengqiao.app.state.HouseholdSearchState
import org.fengqiao.app.state.PhotoSource
import org.fengqiao.app.state.ReportDisputeState
import org.fengqiao.app.state.ReportGateway
import org.fengqiao.core.Attachment
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.Household
import org.fengqiao.core.HouseholdMatch
import org.fengqiao.core.NewPhoto

val fieldStateTests = Suite("field work state").apply {
    test("a refused photo keeps the report; a refused report takes no number and shows the core's message") {
        Phone("field-report").use { leader ->
            leader.signIn("leader.t2v3g1")
            leader.link.mode = LinkProxy.Mode.DOWN
            val real = CoreFieldGateways(leader.client)
            val failing = object : ReportGateway by real {
                override suspend fun attachPhoto(photo: NewPhoto): Attachment = throw FengqiaoException.StorageFull("storage_full", "存储空间不足")
            }
            val report = ReportDisputeState(failing)
            report.load()
            val left = assertNotNull(report.ui.value.stock).left
            // nothing filled in: the core refuses it, with its own words
            assertNull(report.report())
            val refused = assertNotNull(report.ui.value.error)
            assertEquals("invalid_input", refused.code)
            assertTrue(refused.message.any { it in '\u4e00'..'\u9fff' }, refused.message)
            assertEquals(left, leader.client.caseNumberStock().left, "no number taken")

            report.chooseKind("neighbour")
            report.setSummary("院墙滴水引发争执")
            report.setPartyDraft("吴国华")
            report.addParty()
            report.setCause("院墙滴水")
            report.addPhoto(ChosenPhoto(fakeJpeg(leader.dataDir, 20_000).path, PhotoSource.GALLERY, "院墙"))
            val d = assertNotNull(report.report(), "${report.ui.value.error}")
            assertEquals(listOf("storage_full"), report.ui.value.photoErrors.map { it.code }, "the photo's failure is listed")
            assertEquals(d.id, leader.client.dispute(d.id).dispute.id, "the report stands")
            assertEquals(left - 1uL, report.ui.value.stock?.left)
        }
    }

    test("an agreement whose signature photo is refused is not recorded") {
        Phone("field-agreement").use { leader ->
            leader.signIn("leader.t2v3g1")
            val real = CoreFieldGateways(leader.client)
            val report = ReportDisputeState(real)
            report.load()
            report.chooseKind("neighbour")
            report.setSummary("柴草堆放占道")
            report.setPartyDraft("徐丽娟")
            report.addParty()
            val d = assertNotNull(report.report(), "${report.ui.value.error}")
            val failing = object : CaseWorkGateway by real {
                override suspend fun attachPhoto(photo: NewPhoto): Attachment = throw FengqiaoException.StorageFull("storage_full", "存储空间不足")
            }
            val work = CaseWorkState(failing, d.id)
            work.load()
            assertFalse(work.recordAgreement("移走柴草", 0, "", listOf(ChosenPhoto(fakeJpeg(leader.dataDir, 21_000).path, PhotoSource.CAMERA))))
            assertEquals("storage_full", work.ui.value.error?.code)
            assertTrue(leader.client.disputeFile(d.id).agreements.isEmpty(), "nothing half-recorded")
        }
    }

    test("a search answer that arrives after the user typed on is not shown") {
        val first = CompletableDeferred<Unit>()
        fun match(name: String) = HouseholdMatch(Household("id-$name", "g", name, "一组", null, null), false)
        val gateway = object : HouseholdSearchGateway {
            override suspend fun search(query: String, limit: UInt): List<HouseholdMatch> {
                if (query == "w") first.await()
                return listOf(match(query))
            }
        }
        val state = HouseholdSearchState(gateway)
        coroutineScope {
            val slow = async { state.setQuery("w") }
            yield()
            state.setQuery("wj")
            first.complete(Unit)
            slow.await()
        }
        assertEquals("wj", state.ui.value.query)
        assertEquals(listOf("wj"), state.ui.value.results.map { it.household.headName }, "the older answer is dropped")
    }
}
