// The Android app's lock screen state (android/app/.../state/LockState.kt):
// with a fake gateway that behaves as the core does, and against the real
// client and server.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.state.LocalCodes
import org.fengqiao.app.state.LockGateway
import org.fengqiao.app.state.LockState
import org.fengqiao.app.state.UiError
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.LockStatus

/** The core's lock, in a few lines: a PIN, ten attempts, biometrics if allowed. */
private class FakeLock(var pin: String? = "1234", var biometric: Boolean = true) : LockGateway {
    var unlocked = false
    var failed = 0u
    val calls = mutableListOf<String>()
    override suspend fun lockStatus() =
        LockStatus(pin != null, pin != null && !unlocked, pin != null && biometric, 10u - failed, 0uL)
    override fun lock() { calls += "lock"; unlocked = false }
    override suspend fun unlock(pin: String) {
        calls += "unlock:$pin"
        if (failed >= 10u) throw FengqiaoException.WrongPin("wrong_pin", "use the password", 0u, 0uL)
        if (pin != this.pin) {
            failed++
            throw FengqiaoException.WrongPin("wrong_pin", "wrong PIN", 10u - failed, if (failed >= 5u) 30uL else 0uL)
        }
        failed = 0u
        unlocked = true
    }
    override suspend fun unlockWithBiometric(verified: Boolean) {
        calls += "biometric:$verified"
        if (!biometric) throw FengqiaoException.InvalidInput("invalid_input", "invalid_input", "not allowed")
        if (!verified) throw FengqiaoException.Locked("locked", "locked")
        unlocked = true
    }
    override suspend fun setPin(pin: String, allowBiometric: Boolean) { this.pin = pin; biometric = allowBiometric; unlocked = true }
    override suspend fun clearPin() { pin = null }
}

val lockStateTests = Suite("app lock state").apply {
    test("lock screen: digits only, the PIN's form is the core's to judge, wrong PINs count down, the right one opens") {
        val gw = FakeLock()
        val s = LockState(gw)
        s.refresh()
        assertTrue(s.ui.value.locked && s.ui.value.pinSet && s.ui.value.offerBiometric)
        s.onPin("12a3")
        assertEquals("123", s.ui.value.pin)
        assertTrue(s.ui.value.canSubmit, "no local PIN rule")
        s.onPin("")
        assertFalse(s.ui.value.canSubmit)
        assertFalse(s.submitPin())
        assertTrue(gw.calls.isEmpty(), "nothing typed: the core is not asked")

        s.onPin("0000")
        assertFalse(s.submitPin())
        assertEquals("wrong_pin", s.ui.value.error?.code)
        assertEquals(9u, s.ui.value.attemptsLeft)
        assertEquals("", s.ui.value.pin, "cleared after the attempt")
        assertTrue(s.ui.value.locked)

        s.onPin("1234")
        assertTrue(s.submitPin())
        assertFalse(s.ui.value.locked)
        assertNull(s.ui.value.error)
        assertEquals(10u, s.ui.value.attemptsLeft)

        s.lockNow()
        assertTrue(s.ui.value.locked)
        assertEquals("lock", gw.calls.last())
    }

    test("lock screen: a failed biometric check is not passed on; a passed one opens; out of attempts asks for the password") {
        val gw = FakeLock()
        val s = LockState(gw)
        s.refresh()
        assertFalse(s.onBiometricResult(false))
        assertEquals(LocalCodes.BIOMETRIC_FAILED, s.ui.value.error?.code)
        assertTrue(gw.calls.isEmpty())
        assertTrue(s.onBiometricResult(true))
        assertFalse(s.ui.value.locked)

        s.lockNow()
        repeat(10) { s.onPin("9999"); s.submitPin() }
        assertEquals(0u, s.ui.value.attemptsLeft)
        assertTrue(s.ui.value.passwordRequired)
        assertFalse(s.ui.value.offerBiometric)
        s.onPin("1234")
        assertFalse(s.ui.value.canSubmit)
        assertTrue(UiError.of(FengqiaoException.Locked("locked", "locked")).needsUnlock)
        assertTrue(UiError.of(FengqiaoException.DeviceRevoked("device_revoked", "revoked")).needsLogin)
    }

    test("real client: set a PIN, lock, a wrong then the right PIN, biometrics, clear the PIN") {
        Phone("app-lock").use { phone ->
            phone.signIn("leader.t2v3g2")
            val s = LockState(CoreGateways(phone.client))
            s.refresh()
            assertFalse(s.ui.value.pinSet)
            assertFalse(s.setPin("12", true))
            assertEquals("invalid_input", s.ui.value.error?.code, "the core's PIN rule")
            assertTrue(s.setPin("97531", true), "${s.ui.value.error}")
            assertTrue(s.ui.value.pinSet && !s.ui.value.locked)

            s.lockNow()
            assertTrue(s.ui.value.locked)
            assertTrue(phone.client.lockStatus().locked)
            s.onPin("11111")
            assertFalse(s.submitPin())
            assertEquals("wrong_pin", s.ui.value.error?.code)
            assertEquals(9u, s.ui.value.attemptsLeft)
            s.onPin("97531")
            assertTrue(s.submitPin(), "${s.ui.value.error}")
            assertFalse(s.ui.value.locked)
            assertTrue(phone.client.households().isNotEmpty())

            s.lockNow()
            assertTrue(s.onBiometricResult(true), "${s.ui.value.error}")
            assertFalse(phone.client.lockStatus().locked)
            assertTrue(s.clearPin())
            s.lockNow()
            assertFalse(s.ui.value.locked, "no PIN: nothing to lock")
            assertFalse(phone.client.lockStatus().locked)
        }
    }
}
