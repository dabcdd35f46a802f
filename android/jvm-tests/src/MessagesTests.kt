// Words a villager's cadre reads: a refused operation's message, as the app's
// screen state shows it, is the core's plain Chinese naming the rule (the code
// kept for support), and English once the app sets that locale; times are the
// county's, formatted by the core in the county's zone whatever the phone's.
package org.fengqiao.jvmtests

import java.util.TimeZone
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.state.CountyTime
import org.fengqiao.app.state.NewVisitState
import org.fengqiao.app.state.messageLocaleFor
import org.fengqiao.core.MessageLocale
import org.fengqiao.core.SocialBodyKind

private fun hasChinese(s: String) = s.any { it in '\u4e00'..'\u9fff' }

val messagesTests = Suite("messages").apply {
    test("real client: a refused visit shows the core's Chinese, and English with the locale set") {
        Phone("messages-locale").use { phone ->
            phone.signIn("leader.t1v3g3")
            val form = NewVisitState(CoreGateways(phone.client))
            form.load()
            form.selectBody(SocialBodyKind.SCHOOL)
            form.setBodyName("   ")
            try {
                assertEquals(MessageLocale.ZH_CN, phone.client.locale(), "Chinese by default")
                assertNull(form.save())
                val zh = assertNotNull(form.ui.value.error)
                assertEquals("invalid_input", zh.code)
                assertTrue(hasChinese(zh.message) && zh.message.startsWith("走访对象名称："), zh.message)
                assertFalse("invalid_field" in zh.message || "_" in zh.message, "no raw code: ${zh.message}")

                phone.client.setLocale(MessageLocale.EN)
                assertNull(form.save())
                val en = assertNotNull(form.ui.value.error)
                assertEquals("invalid_input", en.code, "the code does not change with the language")
                assertFalse(hasChinese(en.message), en.message)
                assertEquals("A field is missing, malformed or out of range.", en.message)
            } finally {
                phone.client.setLocale(MessageLocale.ZH_CN)
            }
            assertNull(form.save())
            assertTrue(hasChinese(assertNotNull(form.ui.value.error).message), "back to Chinese")
            assertEquals(0uL, phone.client.syncStatus().pendingOps, "nothing refused was queued")
        }
    }

    test("the phone's language picks the core's message language, Chinese unless English") {
        assertEquals(MessageLocale.EN, messageLocaleFor("en-US"))
        assertEquals(MessageLocale.ZH_CN, messageLocaleFor("zh-Hans-CN"))
        assertEquals(MessageLocale.ZH_CN, messageLocaleFor("mn-MN"))
    }

    test("real client: times show in the county's zone, not the phone's") {
        Phone("messages-time").use { phone ->
            val before = TimeZone.getDefault()
            try {
                TimeZone.setDefault(TimeZone.getTimeZone("America/New_York"))
                val clock = CountyTime(phone.client)
                // 2026-03-01 16:30 UTC: 00:30 the next day in the county (Asia/Shanghai)
                val ms = 1_772_382_600_000L
                assertEquals("2026-03-02 00:30", clock.time(ms))
                assertEquals("2026-03-02", clock.date(ms))
            } finally {
                TimeZone.setDefault(before)
            }
        }
    }
}
