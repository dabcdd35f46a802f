// A visit may go to a cooperative, a school, a field or another social body, not
// only a household (主动深入农村社区、农民合作社、学校等社会主体): the new-visit form's
// state against the real core and a real server.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.state.NewVisitState
import org.fengqiao.app.state.SyncState
import org.fengqiao.app.state.VisitListState
import org.fengqiao.core.SocialBodyKind

val visitTargetTests = Suite("visit targets").apply {
    test("real client: a visit to a cooperative is recorded offline, listed by its name and accepted by the server") {
        Phone("visit-body").use { phone ->
            phone.signIn("leader.t1v3g2")
            val group = phone.client.currentUser()!!.roles.single().unitId
            val gw = CoreGateways(phone.client)
            val form = NewVisitState(gw)
            form.load()
            form.selectBody(SocialBodyKind.COOPERATIVE)
            assertTrue(form.ui.value.toBody)
            assertEquals(group, form.ui.value.bodyUnitId, "stands in the leader's group by default")
            assertNull(form.validate(), "no household needed")
            form.setBodyName("联丰农民专业合作社")
            form.setNotes("了解土地流转合同履行情况")
            phone.link.mode = LinkProxy.Mode.DOWN
            val visit = assertNotNull(form.save(), "saved offline: ${form.ui.value.error}")
            assertEquals("联丰农民专业合作社", visit.body?.name)
            assertEquals(SocialBodyKind.COOPERATIVE, visit.body?.kind)
            assertEquals(group, visit.groupId)

            val list = VisitListState(gw)
            list.refresh()
            val row = list.ui.value.rows.single { it.id == visit.id }
            assertEquals("联丰农民专业合作社", row.householdLabel)
            assertEquals(SocialBodyKind.COOPERATIVE, row.bodyKind)
            assertTrue(row.pending)

            phone.link.mode = LinkProxy.Mode.UP
            val report = assertNotNull(SyncState(gw).syncNow())
            assertEquals(0uL, report.rejected)
            list.refresh()
            val synced = list.ui.value.rows.single { it.id == visit.id }
            assertFalse(synced.pending, "the server took it")
            assertEquals(SocialBodyKind.COOPERATIVE, synced.bodyKind)
        }
    }

    test("real client: a body without a name is refused by the core, naming the rule") {
        Phone("visit-body-unnamed").use { phone ->
            phone.signIn("leader.t1v3g3")
            val form = NewVisitState(CoreGateways(phone.client))
            form.load()
            form.selectBody(SocialBodyKind.SCHOOL)
            form.setBodyName("   ")
            assertNull(form.save())
            val e = assertNotNull(form.ui.value.error)
            assertEquals("invalid_input", e.code)
            assertTrue(e.message.startsWith("走访对象名称："), e.message)
            // choosing a household again makes it a household visit
            form.selectHousehold(form.ui.value.households.first().id)
            assertFalse(form.ui.value.toBody)
            val visit = assertNotNull(form.save(), "${form.ui.value.error}")
            assertNull(visit.body)
        }
    }
}
