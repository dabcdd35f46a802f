// Being told, through the bindings and NotificationsState against the real
// server: a group leader's escalation reaches the first secretary's phone as
// exactly one "awaits your decision" notice after its sync, in Chinese, with
// the tab's count and the indicator; the worker's delivery raises it once and
// acknowledges it; the phone restarts, syncs again and is told nothing new.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreNotifications
import org.fengqiao.app.state.NotificationsGateway
import org.fengqiao.app.state.NotificationsState
import org.fengqiao.core.EscalationReason
import org.fengqiao.core.Indicator
import org.fengqiao.core.Level
import org.fengqiao.core.Notice
import org.fengqiao.core.NoticeKind
import org.fengqiao.core.NoticeTab
import org.fengqiao.core.TabCounts

/** A gateway holding notices in memory, recording what was acknowledged. */
private class FakeNotices(var pending: MutableList<Notice>) : NotificationsGateway {
    val acknowledged = mutableListOf<String>()
    override suspend fun refresh(): List<Notice> = emptyList()
    override suspend fun pending(): List<Notice> = pending.toList()
    override suspend fun acknowledge(keys: List<String>) {
        acknowledged += keys
        pending.removeAll { it.key in keys }
    }
    override suspend fun counts() = TabCounts(0u, 0u, 0u, 0u, 0u, pending.size.toUInt())
    override suspend fun indicator() = Indicator(0uL, 0uL, null, 0u, false, pending.size.toUInt(), pending.isNotEmpty(), "")
}

private fun notice(key: String) = Notice(key, NoticeKind.SUBSIDY_PAID, NoticeTab.SUBSIDIES, null, null, "T01V01-2026-0001-001", 0L, "补贴已发放", "正文", 100L, "YH-1")

val notificationTests = Suite("being told").apply {
    test("delivery acknowledges only what the platform raised; the rest stays listed in the app") {
        val gw = FakeNotices(mutableListOf(notice("paid:a"), notice("paid:b")))
        val state = NotificationsState(gw)
        assertEquals(1, state.deliver { it.key == "paid:a" }, "notifications for b were refused (e.g. turned off)")
        assertEquals(listOf("paid:a"), gw.acknowledged)
        assertEquals(listOf("paid:b"), state.ui.value.pending.map { it.key })
        assertEquals(1u, state.ui.value.counts?.notices)
        state.open("paid:b")
        assertTrue(state.ui.value.pending.isEmpty(), "opened in the app: shown")
        assertEquals(listOf("paid:a", "paid:b"), gw.acknowledged)
    }

    test("the first secretary is told once that a request awaits; after a restart and a sync, nothing new") {
        Phone("notice-leader").use { leader ->
            leader.signIn("leader.t2v1g3")
            val group = leader.client.currentUser()!!.roles.single().unitId
            val d = leader.client.reportDispute(neighbourDispute(group, "鸡鸭毁坏菜地"))
            val esc = leader.client.requestEscalation(d.id, Level.VILLAGE, EscalationReason.PARTIES_AGITATED, "双方情绪激动")
            assertEquals(2uL, leader.client.sync().pushedApplied)

            val sec = Phone("notice-firstsec")
            val dataDir = sec.dataDir
            sec.use {
                sec.signIn("firstsec.t2v1") // signs in and syncs: the core works out what is new
                val state = NotificationsState(CoreNotifications(sec.client))
                state.load()
                val mine = state.ui.value.pending.filter { it.kind == NoticeKind.AWAITS_DECISION && it.subjectId == esc.id }
                assertEquals(1, mine.size, "${state.ui.value.pending}")
                val n = mine.single()
                assertEquals("待您审批", n.title)
                assertTrue(n.body.contains(d.caseNumber) && n.body.contains("村"), n.body)
                assertEquals(NoticeTab.INBOX, n.tab)
                assertEquals(d.id, n.disputeId)
                assertEquals(state.ui.value.pending.map { it.key }.distinct().size, state.ui.value.pending.size, "no key twice")
                val counts = assertNotNull(state.ui.value.counts)
                assertTrue(counts.inbox >= 1u, "$counts")
                val indicator = assertNotNull(state.ui.value.indicator)
                assertTrue(indicator.needsUser && indicator.unreadNotices >= 1u, "$indicator")
                assertTrue(indicator.summary.contains("上次同步"), indicator.summary)

                // a second sync tells nothing again
                assertEquals(0uL, sec.client.sync().newNotices)
                // the worker raises each pending notice once and acknowledges it
                val raised = mutableListOf<String>()
                assertEquals(state.ui.value.pending.size, state.deliver { raised += it.key; true })
                assertTrue(n.key in raised)
                assertTrue(state.ui.value.pending.isEmpty(), "acknowledged")
                assertEquals(0, state.deliver { error("nothing left to raise") })
            }

            // the phone restarts: the same events are not told again
            val again = reopen(dataDir, Env.serverUrl)
            again.use { client ->
                assertEquals(0uL, client.sync().newNotices)
                assertTrue(client.refreshNotices().isEmpty())
                assertTrue(client.pendingNotices().isEmpty())
            }
        }
    }
}
