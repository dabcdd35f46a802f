// Choosing the judicial office (ADR 0028) through the bindings and the dispute
// screen's state, against the real server: the county imports a town that two
// offices serve, with a first secretary in one of its villages. The core lists
// both offices (names and order its own); a request to the third level that
// names none is refused `office_choice_required` and queues nothing; the one
// naming an office is accepted by the server, which records that office.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.fengqiao.app.state.DisputeDetailState
import org.fengqiao.app.state.EscalationReasonCode
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.app.state.LadderLevel
import org.fengqiao.core.EscalationReason
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.Level

val officeChoiceTests = Suite("choosing the judicial office").apply {
    test("a town served by two offices: the phone lists them, refuses no choice, sends the chosen one") {
        val admin = AdminApi.token("admin")
        AdminApi.importCsv(admin, "units.csv", "级别,上级编码,编码,名称,服务乡镇\n镇,,T09,双所镇,\n村,T09,V01,双所村,\n")
        AdminApi.importCsv(admin, "offices.csv", "级别,上级编码,编码,名称,服务乡镇\n司法所,,SF9,西所,T09\n中心司法所,,SF8,东所,T09\n")
        val (initial, password) = "Office-initial-pw-01" to "Office-changed-pw-02"
        AdminApi.importCsv(admin, "users.csv", "用户名,姓名,角色,单位,初始密码\nfirstsec.t9v1,双所村第一书记,first_secretary,T09/V01,$initial\n")
        AdminApi.changePassword("firstsec.t9v1", initial, password)

        Phone("office-choice").use { sec ->
            sec.client.login("firstsec.t9v1", password)
            sec.client.sync()
            val village = sec.client.currentUser()!!.roles.single().unitId
            val d = sec.client.reportDispute(neighbourDispute(village, "宅基地纠纷，需司法所调处").copy(level = Level.VILLAGE))
            val offices = sec.client.officesFor(d.id)
            assertEquals(listOf("SF8" to "东所", "SF9" to "西所"), offices.map { it.code to it.name }, "the core's order: by code")
            val west = offices.single { it.code == "SF9" }.id

            val detail = DisputeDetailState(LadderGateways(sec.client), d.id)
            detail.load()
            assertEquals(listOf(LadderLevel.JUDICIAL_OFFICE), detail.ui.value.detail?.escalateTo, "the third level is offered")
            assertEquals(LadderLevel.JUDICIAL_OFFICE, detail.ui.value.form.toLevel)
            assertEquals(listOf("东所", "西所"), detail.ui.value.officeChoice.map { it.name })
            detail.chooseReason(EscalationReasonCode.OUTSIDE_LEVEL_SCOPE)
            assertFalse(detail.requestEscalation(), "no office chosen")
            assertEquals("rejected", detail.ui.value.error?.code)
            val refused = assertFailsWith<FengqiaoException.Rejected> {
                sec.client.requestEscalation(d.id, Level.JUDICIAL_OFFICE, EscalationReason.OUTSIDE_LEVEL_SCOPE, "", null)
            }
            assertEquals("office_choice_required", refused.reason)
            assertEquals(1uL, sec.client.syncStatus().pendingOps, "only the report is queued")

            detail.chooseOffice(west)
            assertTrue(detail.requestEscalation(), "${detail.ui.value.error}")
            assertEquals(LadderLevel.JUDICIAL_OFFICE, detail.ui.value.detail?.row?.pendingEscalationTo)
            assertEquals(2uL, sec.client.sync().pushedApplied)
            val asked = sec.client.dispute(d.id).pendingEscalation
            assertEquals(west, asked?.toUnit, "the server recorded the office chosen")
            assertFalse(sec.client.dispute(d.id).pending)
        }
    }
}
