// The phone keeps villagers' data safe (issue 9), through the bindings: the
// store key (wrong key, rotation, recovery refused on a sound store), photo
// bytes decrypted by the core, the offline PIN / biometric lock, unsynced work
// kept per user on a shared phone, the county admin's wipe, device revocation
// through the admin HTTP API, and the storage guard. Real server, real phone
// stores. Each test signs in its own demo user, so revocations and wipes touch
// no other test.
package org.fengqiao.jvmtests

import java.io.File
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.state.LoginState
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewVisit
import org.fengqiao.core.VisitKind
import org.fengqiao.core.recoverStore

/** A routine visit to the first household of the signed-in user. */
private fun Phone.visit(notes: String) =
    client.recordVisit(NewVisit(householdId = client.households().first().id, kind = VisitKind.ROUTINE, notes = notes))

/** `needle` occurs in `hay` (byte for byte). */
private fun contains(hay: ByteArray, needle: ByteArray): Boolean =
    String(hay, Charsets.ISO_8859_1).contains(String(needle, Charsets.ISO_8859_1))

/** Visit ids a fresh phone of `username` pulls from the server. */
private suspend fun visitIdsOnServer(username: String): Set<String> = Phone("observer").use { obs ->
    obs.signIn(username)
    obs.client.listVisits(500u).map { it.visit.id }.toSet()
}

val phoneSafetyTests = Suite("phone safety").apply {
    test("a wrong store key is refused with WrongStoreKey and changes nothing; the right key opens the store") {
        val phone = Phone("store-key")
        phone.signIn("leader.t1v2g2")
        phone.link.mode = LinkProxy.Mode.DOWN
        val visit = phone.visit("钥匙测试")
        val dir = phone.dataDir
        phone.close()
        val before = File(dir).walk().filter { it.isFile }.map { it.path to it.length() }.toSet()

        val wrong = assertFailsWith<FengqiaoException.WrongStoreKey> { reopen(dir, "http://127.0.0.1:9", ByteArray(32) { 1 }) }
        assertEquals("wrong_store_key", wrong.code())
        assertFalseTransient(wrong)
        assertFailsWith<FengqiaoException.InvalidInput> { reopen(dir, "http://127.0.0.1:9", ByteArray(7)) }
        assertEquals(before, File(dir).walk().filter { it.isFile }.map { it.path to it.length() }.toSet(), "a refused key changes nothing")
        // A sound store is not "recovered".
        assertFailsWith<FengqiaoException.InvalidInput> { recoverStore(dir, Env.storeKey) }

        reopen(dir, Env.serverUrl).use { client ->
            assertEquals("leader.t1v2g2", client.currentUser()?.username)
            assertTrue(client.listVisits(50u).any { it.visit.id == visit.id && it.pending }, "the queued visit is there")
            assertEquals(1uL, client.sync().pushedApplied)
        }
    }

    test("rotateStoreKey: afterwards only the new key opens the store, nothing lost") {
        val phone = Phone("rotate")
        phone.signIn("leader.t1v2g2")
        phone.link.mode = LinkProxy.Mode.DOWN
        val visit = phone.visit("换钥匙之前")
        val newKey = ByteArray(32) { (99 - it).toByte() }
        assertFailsWith<FengqiaoException> { phone.client.rotateStoreKey(ByteArray(32) { 5 }, newKey) }
        phone.client.rotateStoreKey(Env.storeKey, newKey)
        val dir = phone.dataDir
        phone.close()

        assertFailsWith<FengqiaoException.WrongStoreKey> { reopen(dir, Env.serverUrl, Env.storeKey) }
        reopen(dir, Env.serverUrl, newKey).use { client ->
            assertTrue(client.listVisits(50u).any { it.visit.id == visit.id && it.pending })
            assertEquals(1uL, client.sync().pushedApplied, "the visit goes up after rotation")
        }
        assertTrue(visit.id in visitIdsOnServer("leader.t1v2g2"))
    }

    test("photoBytes returns the attached bytes, decrypted; on disk they are nowhere in plain") {
        Phone("photo-bytes").use { phone ->
            phone.signIn("leader.t1v3g2")
            val visit = phone.visit("照片加密")
            val file = fakeJpeg(phone.dataDir, 200_000)
            val bytes = file.readBytes()
            val att = phone.client.attachPhoto(
                NewPhoto(targetKind = "visit", targetId = visit.id, sourcePath = file.path, contentType = "image/jpeg"),
            )
            assertTrue(file.delete())
            assertContentEquals(bytes, phone.client.photoBytes(att.sha256))
            assertNull(phone.client.photoBytes("0".repeat(64)), "an unknown photo")
            val needle = bytes.copyOfRange(1_000, 1_064)
            for (f in File(phone.dataDir).walk().filter { it.isFile }) {
                assertFalse(contains(f.readBytes(), needle), "photo bytes in plain in ${f.path}")
            }
            assertEquals(1uL, phone.client.sync().photosUploaded)
            assertContentEquals(bytes, phone.client.photoBytes(att.sha256), "kept after the upload (within budget)")
        }
    }

    test("PIN lock: data calls throw Locked (sync still sends), wrong PINs count down, the right PIN or a biometric result opens") {
        val phone = Phone("pin")
        phone.signIn("leader.t2v2g2")
        val c = phone.client
        assertFalse(c.lockStatus().pinSet)
        assertFailsWith<FengqiaoException.InvalidInput> { c.setPin("12ab", false) }
        c.setPin("2468", true)
        val set = c.lockStatus()
        assertTrue(set.pinSet && !set.locked && set.biometricAllowed, "$set")
        assertEquals(10u, set.attemptsLeft)
        phone.visit("上锁前")

        c.lock()
        assertTrue(c.lockStatus().locked)
        assertEquals("locked", assertFailsWith<FengqiaoException.Locked> { c.households() }.code())
        assertFailsWith<FengqiaoException.Locked> { c.listVisits(10u) }
        assertFailsWith<FengqiaoException.Locked> { c.syncStatus() }
        // a locked phone in a pocket still sends its work when signal returns
        assertEquals(1uL, c.sync().pushedApplied)
        var left = set.attemptsLeft
        repeat(3) {
            val wrong = assertFailsWith<FengqiaoException.WrongPin> { c.unlock("0000") }
            assertEquals("wrong_pin", wrong.code())
            assertEquals(left - 1u, wrong.attemptsLeft, "attempts left decrease")
            assertEquals(0uL, wrong.retryAfterSecs, "the first wrong PINs do not wait")
            left = wrong.attemptsLeft
        }
        assertEquals(7u, c.lockStatus().attemptsLeft)
        c.unlock("2468")
        assertFalse(c.lockStatus().locked)
        assertEquals(10u, c.lockStatus().attemptsLeft, "the right PIN resets the count")
        assertEquals(1, c.listVisits(10u).count { !it.pending }, "the visit went up while the phone was locked")

        c.lock()
        assertFailsWith<FengqiaoException.Locked> { c.unlockWithBiometric(false) }
        c.unlockWithBiometric(true)
        assertTrue(c.households().isNotEmpty())
        val dir = phone.dataDir
        phone.close()

        // Closed again after an app restart.
        reopen(dir, Env.serverUrl).use { again ->
            assertTrue(again.lockStatus().locked)
            assertFailsWith<FengqiaoException.Locked> { again.listVisits(10u) }
            again.unlock("2468")
            again.clearPin()
            again.lock()
            assertFalse(again.lockStatus().pinSet)
            assertEquals(1, again.listVisits(10u).size, "without a PIN, lock() closes nothing")
        }
    }

    test("waitingWork: a second user on the same phone never sends or sees the first user's work") {
        val first = "leader.t2v1g3"
        val second = "leader.t2v2g3"
        Phone("shared").use { phone ->
            val c = phone.client
            phone.signIn(first)
            phone.link.mode = LinkProxy.Mode.DOWN
            val ids = (0 until 2).map { phone.visit("甲的走访$it").id }.toSet()
            c.logout()
            assertNull(c.currentUser())
            val waiting = c.waitingWork().single()
            assertEquals(first, waiting.username)
            assertEquals(2uL, waiting.ops)
            assertFalse(waiting.isCurrent)

            phone.link.mode = LinkProxy.Mode.UP
            phone.signIn(second)
            assertEquals(0uL, c.sync().pushedApplied, "nothing of the first user's goes up as the second")
            assertTrue(c.listVisits(500u).none { it.visit.id in ids }, "not shown to the second user")
            val theirs = c.waitingWork().single { it.username == first }
            assertEquals(2uL, theirs.ops)
            assertFalse(theirs.isCurrent)
            assertEquals(2uL, c.syncStatus().waitingForOtherUsers)
            assertTrue(ids.none { it in visitIdsOnServer(first) }, "the server has none of them")
            c.logout()

            val cred = Env.user(first)
            c.login(cred.username, cred.password)
            assertEquals(2uL, c.sync().pushedApplied, "they go up when their user is back")
            assertTrue(c.waitingWork().isEmpty())
            assertTrue(ids.all { it in visitIdsOnServer(first) })
        }
    }

    test("photos follow their user and the lock: a locked phone signs out only with the password; another user sees none") {
        val first = "leader.t2v1g1"
        Phone("photo-owner").use { phone ->
            val c = phone.client
            phone.signIn(first)
            phone.link.mode = LinkProxy.Mode.DOWN
            val visit = phone.visit("身份证照片")
            val file = fakeJpeg(phone.dataDir, 50_000)
            val bytes = file.readBytes()
            val att = c.attachPhoto(NewPhoto(targetKind = "visit", targetId = visit.id, sourcePath = file.path, contentType = "image/jpeg"))
            c.setPin("1357", false)
            c.lock()
            val login = LoginState(CoreGateways(c))
            login.logout()
            assertEquals("locked", login.ui.value.error?.code, "a locked phone does not sign out")
            assertTrue(login.ui.value.logoutNeedsPassword)
            assertNotNull(c.currentUser())
            assertFailsWith<FengqiaoException.Locked> { c.photoStates() }
            assertFailsWith<FengqiaoException.Locked> { c.photoBytes(att.sha256) }
            login.onPassword("not-the-password")
            assertFalse(login.logoutWithPassword(), "offline the password cannot be checked")
            assertNotNull(c.currentUser())
            phone.link.mode = LinkProxy.Mode.UP
            login.onPassword("not-the-password")
            assertFalse(login.logoutWithPassword())
            assertEquals("invalid_credentials", login.ui.value.error?.code)
            assertEquals("", login.ui.value.password)
            assertNotNull(c.currentUser(), "a wrong password signs nobody out")
            login.onPassword(Env.user(first).password)
            assertTrue(login.logoutWithPassword())
            assertNull(login.ui.value.user)
            assertFailsWith<FengqiaoException.NotLoggedIn> { c.photoStates() }
            assertFailsWith<FengqiaoException.NotLoggedIn> { c.photoBytes(att.sha256) }

            val second = Env.user("leader.t2v1g2")
            c.login(second.username, second.password)
            assertTrue(c.photoStates().isEmpty(), "the first user's queued photo is not the second's")
            assertNull(c.photoBytes(att.sha256))
            c.logout()

            val back = Env.user(first)
            c.login(back.username, back.password)
            assertEquals(listOf(att.sha256), c.photoStates().map { it.sha256 })
            assertContentEquals(bytes, c.photoBytes(att.sha256))
        }
    }

    test("wipePhone: refused for a leader; for the county admin UnsyncedWork unless forced, then a report") {
        Phone("wipe").use { phone ->
            val c = phone.client
            phone.signIn("leader.t1v2g3")
            phone.link.mode = LinkProxy.Mode.DOWN
            phone.visit("未同步一")
            phone.visit("未同步二")
            val refused = assertFailsWith<FengqiaoException.Rejected> { c.wipePhone(true) }
            assertEquals("role_not_allowed", refused.reason)
            c.logout()
            phone.link.mode = LinkProxy.Mode.UP
            val admin = Env.user("admin")
            c.login(admin.username, admin.password)

            val unsynced = assertFailsWith<FengqiaoException.UnsyncedWork> { c.wipePhone(false) }
            assertEquals("unsynced_work", unsynced.code())
            assertEquals(2uL, unsynced.ops)
            assertEquals(0uL, unsynced.photos)
            assertEquals(2uL, c.waitingWork().sumOf { it.ops }, "a refused wipe changes nothing")

            val report = c.wipePhone(true)
            assertEquals(2uL, report.opsLost)
            assertEquals(0uL, report.quarantinedLost)
            assertEquals(0uL, report.photosLost)
            assertTrue(report.recordsRemoved >= 2uL, "$report")
            assertNull(c.currentUser())
            assertTrue(c.waitingWork().isEmpty())
        }
    }

    test("a device revoked through the admin API: sync sends what it can, throws DeviceRevoked, forgets the user") {
        val leader = "leader.t2v3g3"
        Phone("revoked").use { phone ->
            val c = phone.client
            phone.signIn(leader)
            val me = assertNotNull(c.currentUser()).id
            val held = (0 until 2).map { phone.visit("丢失前$it").id }

            val token = AdminApi.token("admin")
            val device = AdminApi.deviceIds(token, me).single()
            assertEquals(204, AdminApi.revokeDevice(token, me, device))

            val revoked = assertFailsWith<FengqiaoException.DeviceRevoked> { c.sync() }
            assertEquals("device_revoked", revoked.code())
            assertFalseTransient(revoked)
            assertNull(c.currentUser())
            assertTrue(c.waitingWork().isEmpty())
            assertFailsWith<FengqiaoException.NotLoggedIn> { c.households() }
            assertTrue(held.all { it in visitIdsOnServer(leader) }, "what the phone held was sent first")
        }
    }

    test("storageUsage gives plausible numbers; below the free-space threshold photos are refused, text saves") {
        val phone = Phone("storage", Env.fastConfig.copy(minFreeBytes = 1_000_000uL))
        phone.signIn("leader.t1v3g3")
        val visit = phone.visit("空间")
        val before = phone.client.storageUsage()
        assertTrue(before.storeBytes > 0uL && before.freeBytes > 0uL, "$before")
        assertEquals(1_000_000uL, before.minFreeBytes)
        assertTrue(before.photosAllowed)
        val file = fakeJpeg(phone.dataDir, 200_000)
        phone.client.attachPhoto(NewPhoto(targetKind = "visit", targetId = visit.id, sourcePath = file.path, contentType = "image/jpeg"))
        val after = phone.client.storageUsage()
        assertTrue(after.photoBytes >= before.photoBytes + 200_000uL, "$before -> $after")
        val dir = phone.dataDir
        phone.close()

        reopen(dir, Env.serverUrl, config = Env.fastConfig.copy(minFreeBytes = 1uL shl 62)).use { client ->
            val low = client.storageUsage()
            assertFalse(low.photosAllowed, "$low")
            val refused = assertFailsWith<FengqiaoException.StorageLow> {
                client.attachPhoto(NewPhoto(targetKind = "visit", targetId = visit.id, sourcePath = file.path, contentType = "image/jpeg"))
            }
            assertEquals("storage_low", refused.code())
            client.recordVisit(NewVisit(householdId = visit.householdId, kind = VisitKind.ROUTINE, notes = "文字照存"))
            assertEquals(1, client.photoStates().size, "the refused photo left nothing behind")
        }
    }
}
