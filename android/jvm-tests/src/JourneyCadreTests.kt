// The cadres' journey through the app's state classes on the real server, in
// village 和平村 (t2v2), whose rules (one item, no correction period) the
// secretary sets and the judicial office reviews as lawful (raw pushes: desk
// work). The group leader finds a household offline by the pinyin initials of
// its head's name and sees it in good standing; the cadre records a violation
// with the item's correction period shown; after a sync the leader's search
// shows the household's services suspended, and nothing of the violation; the
// secretary restores the household and the leader sees it in good standing
// again. The cadre's phone told once that the screening is due; the cadre files
// the screening the core says is due (by the period's last day), and it is due
// no longer.
package org.fengqiao.jvmtests

import java.time.LocalDate
import java.time.ZoneId
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreFieldGateways
import org.fengqiao.app.state.CoreNotifications
import org.fengqiao.app.state.HouseholdPreventState
import org.fengqiao.app.state.HouseholdSearchState
import org.fengqiao.app.state.NotificationsState
import org.fengqiao.app.state.ScreeningState
import org.fengqiao.core.NoticeKind

/** The pinyin initials the demo's surnames and given names are typed with. */
private val DEMO_INITIALS = mapOf(
    '王' to 'w', '李' to 'l', '张' to 'z', '刘' to 'l', '陈' to 'c', '杨' to 'y', '赵' to 'z', '黄' to 'h', '周' to 'z', '吴' to 'w', '徐' to 'x', '孙' to 's',
    '建' to 'j', '国' to 'g', '秀' to 'x', '英' to 'y', '桂' to 'g', '兰' to 'l', '志' to 'z', '强' to 'q', '玉' to 'y', '梅' to 'm', '海' to 'h', '军' to 'j',
    '春' to 'c', '花' to 'h', '永' to 'y', '福' to 'f', '淑' to 's', '珍' to 'z', '华' to 'h', '丽' to 'l', '娟' to 'j', '长' to 'c', '林' to 'l',
)

val journeyCadreTests = Suite("journeys: cadres and the household's standing").apply {
    test("a violation suspends a household the leader finds by initials; restored, it is in good standing again; the screening is filed") {
        val sec = AdminApi.token(JourneyCast.SECRETARY)
        val judicial = AdminApi.token(JourneyCast.JUDICIAL)
        Phone("journey-cadre").use { cadre ->
            cadre.signIn(JourneyCast.CADRE)
            val village = cadre.client.currentUser()!!.roles.single().unitId
            val rules = """{"id":"${rulesId(village)}","village_id":"$village","legality_reviewed":false,
                "items":[{"code":"yard_dirty_messy","label_zh":"村庄卫生脏乱差","correction_days":0,
                "sanctions":[{"type":"services_suspended","services":["村级福利"]}]}],
                "adoption":{"meeting_date":"${LocalDate.now(ZoneId.of("Asia/Shanghai")).minusDays(3)}","members":30,
                "present":25,"votes_for":22,"votes_against":1,"abstentions":2}}"""
            assertEquals("applied", AdminApi.pushOp(sec, userIdOf(sec), "set_village_rules", rules))
            assertEquals("applied", AdminApi.pushOp(judicial, userIdOf(judicial), "review_village_rules", """{"village_id":"$village","reviewed":true}"""))
            cadre.client.sync()

            Phone("journey-standing-leader").use { leader ->
                leader.signIn(JourneyCast.LEADER)
                leader.link.mode = LinkProxy.Mode.DOWN
                val home = leader.client.households().last()
                val initials = home.headName.map { DEMO_INITIALS.getValue(it) }.joinToString("")
                val search = HouseholdSearchState(CoreFieldGateways(leader.client))
                search.setQuery(initials)
                val found = search.ui.value.results.firstOrNull { it.household.id == home.id }
                assertNotNull(found, "found offline by the initials $initials of ${home.headName}: ${search.ui.value.results}")
                assertFalse(found.suspended, "in good standing")

                // the cadre records the violation, the correction period shown first
                val prevent = HouseholdPreventState(CoreFieldGateways(cadre.client), home.id)
                prevent.load()
                prevent.chooseItem("yard_dirty_messy")
                assertEquals(0u, prevent.ui.value.correctionDays, "this village's rule: no correction period")
                prevent.setNote("院内垃圾堆放")
                assertTrue(prevent.record(), "${prevent.ui.value.error}")
                syncClean(cadre)
                prevent.load()
                val v = prevent.ui.value.violations!!.single()
                assertFalse(v.pending)

                leader.link.mode = LinkProxy.Mode.UP
                syncClean(leader)
                leader.link.mode = LinkProxy.Mode.DOWN
                search.setQuery(home.headName)
                assertTrue(search.ui.value.results.single { it.household.id == home.id }.suspended, "suspended, seen offline")
                val leaderView = HouseholdPreventState(CoreFieldGateways(leader.client), home.id)
                leaderView.load()
                assertNull(leaderView.ui.value.violations, "the group leader never sees the violation")

                // the secretary restores the household
                Phone("journey-secretary").use { s ->
                    s.signIn(JourneyCast.SECRETARY)
                    val restore = HouseholdPreventState(CoreFieldGateways(s.client), home.id)
                    restore.load()
                    assertTrue(restore.restore(v.violation.id, "已清理干净"), "${restore.ui.value.error}")
                    syncClean(s)
                }
                leader.link.mode = LinkProxy.Mode.UP
                syncClean(leader)
                search.setQuery(initials)
                assertFalse(search.ui.value.results.single { it.household.id == home.id }.suspended, "in good standing again")
            }

            // the screening the core says is due
            val screening = ScreeningState(CoreFieldGateways(cadre.client))
            screening.load()
            val due = assertNotNull(screening.ui.value.due, "${screening.ui.value.error}")
            val today = LocalDate.now(ZoneId.of("Asia/Shanghai"))
            val dueOn = LocalDate.parse(due.dueOn)
            assertTrue(!dueOn.isBefore(today) && dueOn.isBefore(today.plusDays(32)), "due by the period's last day: ${due.dueOn}")
            // the cadre's phone was told once that it is due, through the syncs above
            val told = NotificationsState(CoreNotifications(cadre.client))
            told.load()
            val dueNotices = told.ui.value.pending.filter { it.kind == NoticeKind.SCREENING_DUE && it.subjectId == village }
            assertEquals(1, dueNotices.size, "${told.ui.value.pending}")
            assertEquals("请填报矛盾纠纷排查", dueNotices.single().title)
            assertTrue(dueNotices.single().body.contains(due.period), dueNotices.single().body)
            assertEquals(1, told.deliver { it.key == dueNotices.single().key })
            cadre.client.sync()
            told.refresh()
            assertTrue(told.ui.value.pending.none { it.kind == NoticeKind.SCREENING_DUE }, "told once: ${told.ui.value.pending}")
            screening.toggleArea(screening.ui.value.focusAreas.first().code)
            screening.addHazard("排水沟堵塞引发邻里矛盾")
            assertTrue(screening.file(), "${screening.ui.value.error}")
            assertEquals(due.period, screening.ui.value.filedPeriod)
            assertNull(screening.ui.value.due, "filed: no longer due")
            syncClean(cadre)
            told.refresh()
            assertTrue(told.ui.value.pending.none { it.kind == NoticeKind.SCREENING_DUE }, "filed: nothing to tell")
        }
    }
}
