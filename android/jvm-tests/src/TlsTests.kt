// The county's CA and key pins reach the core through ClientConfig: against a
// real HTTPS server (tests/kotlin-jvm.sh starts one with `serve --tls-cert`),
// the right pin gets through to the server and a wrong one is refused with
// `server_not_trusted` before anything is sent.
package org.fengqiao.jvmtests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.FieldClient

private object Tls {
    private fun need(name: String): String =
        System.getenv(name) ?: throw IllegalStateException("$name is not set (run tests/kotlin-jvm.sh)")

    /** The HTTPS server, e.g. `https://127.0.0.1:41235`. */
    val url: String by lazy { need("FENGQIAO_TLS_URL") }
    /** The county CA's certificate (PEM). */
    val caPem: String by lazy { java.io.File(need("FENGQIAO_TLS_CA")).readText() }
    /** The server key's pin, `sha256/<base64>`. */
    val pin: String by lazy { need("FENGQIAO_TLS_PIN") }
    /** A pin of some other key. */
    const val WRONG_PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
}

val tlsTests = Suite("tls").apply {
    test("the county's CA and pinned key reach the server") {
        val config = Env.fastConfig.copy(serverCaPem = Tls.caPem, serverPins = listOf(Tls.WRONG_PIN, Tls.pin))
        FieldClient(Env.dataDir("tls-pinned"), Tls.url, Env.storeKey, config).use { client ->
            // The server answered: the handshake passed and the request was read.
            assertFailsWith<FengqiaoException.InvalidCredentials> { client.login("leader.t1v1g1", "not-the-password") }
        }
    }

    test("a wrong pin is refused as server_not_trusted") {
        val config = Env.fastConfig.copy(serverCaPem = Tls.caPem, serverPins = listOf(Tls.WRONG_PIN))
        FieldClient(Env.dataDir("tls-wrong-pin"), Tls.url, Env.storeKey, config).use { client ->
            val e = assertFailsWith<FengqiaoException.ServerNotTrusted> { client.login("leader.t1v1g1", "x") }
            assertEquals("server_not_trusted", e.code())
            assertEquals("certificate_pin_mismatch", e.reason)
            assertTrue(e.detail.contains("没有发送任何数据"), e.detail)
            assertFalse(e.isTransient())
        }
    }

    test("without the county's CA its certificate is not trusted") {
        FieldClient(Env.dataDir("tls-no-ca"), Tls.url, Env.storeKey, Env.fastConfig).use { client ->
            val e = assertFailsWith<FengqiaoException.ServerNotTrusted> { client.login("leader.t1v1g1", "x") }
            assertEquals("certificate_untrusted", e.reason)
        }
    }

    test("a malformed pin is refused when the client opens") {
        val config = Env.fastConfig.copy(serverPins = listOf("sha256/short"))
        val e = assertFailsWith<FengqiaoException.InvalidInput> { FieldClient(Env.dataDir("tls-bad-pin"), Tls.url, Env.storeKey, config) }
        assertEquals("invalid_pin", e.reason)
    }
}
