// Login, logout and the cached session.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.FieldClient
import org.fengqiao.core.Role
import org.fengqiao.core.roleLabelZh

val sessionTests = Suite("session").apply {
    test("a group leader logs in and sees their role and unit") {
        Phone("login").use { phone ->
            val c = Env.user("leader.t1v1g1")
            val user = phone.client.login(c.username, c.password)
            assertEquals("leader.t1v1g1", user.username)
            val grant = user.roles.single()
            assertEquals(Role.GROUP_LEADER, grant.role)
            assertEquals(c.unitId, grant.unitId)
            assertEquals("组长/网格员", roleLabelZh(grant.role))
            assertEquals(user, phone.client.currentUser())
        }
    }

    test("a wrong password arrives as InvalidCredentials with code invalid_credentials") {
        Phone("badpw").use { phone ->
            val e = assertFailsWith<FengqiaoException.InvalidCredentials> {
                phone.client.login("leader.t1v1g1", "not-the-password")
            }
            assertEquals("invalid_credentials", e.code)
            assertEquals("invalid_credentials", e.code())
            assertTrue(e.detail().isNotBlank())
            assertFalseTransient(e)
            assertNull(phone.client.currentUser())
        }
    }

    test("the session is cached: offline after reopening, the user is still signed in") {
        val phone = Phone("cached")
        phone.signIn("leader.t1v1g1")
        val dir = phone.dataDir
        phone.close()
        // Nothing listens on the proxy's old port any more: fully offline.
        FieldClient(dir, "http://127.0.0.1:9", Env.storeKey, Env.fastConfig).use { offline ->
            assertEquals("leader.t1v1g1", assertNotNull(offline.currentUser()).username)
            assertTrue(offline.households().isNotEmpty(), "pulled households stay on the phone")
        }
    }

    test("logout forgets the session; calls then fail with not_logged_in") {
        Phone("logout").use { phone ->
            phone.signIn("leader.t1v1g1")
            phone.client.logout()
            assertNull(phone.client.currentUser())
            val e = assertFailsWith<FengqiaoException.NotLoggedIn> { phone.client.sync() }
            assertEquals("not_logged_in", e.code())
            assertFailsWith<FengqiaoException.NotLoggedIn> { phone.client.households() }
        }
    }
}

fun assertFalseTransient(e: FengqiaoException) = assertTrue(!e.isTransient(), "${e.code()} must not be transient")
