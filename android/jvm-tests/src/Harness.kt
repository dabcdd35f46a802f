// The harness of the JVM suite: a tiny test runner (kotlin-test has assertions
// but no runner), the environment the script hands over (server URL, demo
// credentials, a scratch folder), the phones' store key, LinkProxy, which lets
// a test take the phone's network down and up again while its client keeps the
// same server URL, and AdminApi, the county admin's HTTP calls.
package org.fengqiao.jvmtests

import java.io.File
import java.io.IOException
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.fengqiao.core.ClientConfig
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.FieldClient

/** One named test: a suspending block that throws on failure. */
class TestCase(val name: String, val body: suspend () -> Unit)

/** A feature's tests, registered by name. */
class Suite(val feature: String) {
    val cases = mutableListOf<TestCase>()
    fun test(name: String, body: suspend () -> Unit) {
        cases += TestCase(name, body)
    }
}

/** Runs every case of every suite, each under a time limit; prints one line per case and the tally. */
fun runSuites(suites: List<Suite>, perTestMillis: Long = 90_000): Int {
    var passed = 0
    var failed = 0
    for (suite in suites) {
        for (case in suite.cases) {
            val label = "${suite.feature} › ${case.name}"
            val started = System.nanoTime()
            try {
                runBlocking { withTimeout(perTestMillis) { case.body() } }
                passed++
                println("PASS $label (${(System.nanoTime() - started) / 1_000_000} ms)")
            } catch (t: Throwable) {
                failed++
                println("FAIL $label: $t")
                t.printStackTrace(System.out)
            }
        }
    }
    println("$passed passed, $failed failed")
    return failed
}

/** A demo user from `demo-credentials.json`. */
data class Credential(val username: String, val password: String, val role: String, val unitId: String)

/** What the script hands over, through the environment. */
object Env {
    private fun need(name: String): String =
        System.getenv(name) ?: throw IllegalStateException("$name is not set (run tests/kotlin-jvm.sh)")

    /** The live server, e.g. `http://127.0.0.1:41234`. */
    val serverUrl: String by lazy { need("FENGQIAO_SERVER_URL") }

    /** A scratch folder for the phones' data dirs. */
    val scratch: File by lazy { File(need("FENGQIAO_TEST_DIR")).also { it.mkdirs() } }

    /** The server's demo users, by username. */
    val credentials: Map<String, Credential> by lazy { parseCredentials(File(need("FENGQIAO_DEMO_CREDENTIALS")).readText()) }

    fun user(username: String): Credential =
        credentials[username] ?: throw IllegalStateException("no demo user $username")

    /** The store key every test phone uses unless a test says otherwise (the
     * apps take theirs from the Android Keystore / iOS Keychain). */
    val storeKey: ByteArray get() = ByteArray(32) { (it * 7 + 3).toByte() }

    /** A fresh data dir for one phone. */
    fun dataDir(name: String): String = Files.createTempDirectory(scratch.toPath(), "$name-").toString()

    /** Settings that make offline failures quick in tests. */
    val fastConfig = ClientConfig(
        connectTimeoutMs = 2_000u,
        requestTimeoutMs = 10_000u,
        retryMaxAttempts = 2u,
        retryInitialBackoffMs = 50u,
        retryMaxBackoffMs = 200u,
    )

    /** As [fastConfig], keeping the app's bundled policy instead of the server's, so
     * a server stricter than the phone refuses what the phone accepted. */
    val pinnedPolicyConfig = fastConfig.copy(adoptServerPolicy = false)
}

/** Reads the flat list of `{username, password, role, unit, unit_id}` objects (no JSON library needed). */
fun parseCredentials(json: String): Map<String, Credential> {
    fun field(obj: String, name: String): String =
        Regex("\"$name\"\\s*:\\s*\"([^\"]*)\"").find(obj)?.groupValues?.get(1) ?: ""
    return Regex("\\{[^{}]*\\}").findAll(json).map { m ->
        val o = m.value
        Credential(field(o, "username"), field(o, "password"), field(o, "role"), field(o, "unit_id"))
    }.filter { it.username.isNotEmpty() }.associateBy { it.username }
}

/**
 * A TCP proxy between a phone and the server that a test switches:
 * UP forwards, DOWN refuses (closes at once), BLACKHOLE accepts and never
 * answers (a dead link that hangs). Switching drops every open connection, so
 * pooled keep-alive connections do not outlive a change.
 */
class LinkProxy(target: String = Env.serverUrl) : AutoCloseable {
    enum class Mode { UP, DOWN, BLACKHOLE }

    private val targetPort = URI(target).port
    private val server = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
    private val open = ConcurrentHashMap.newKeySet<Socket>()

    /** The URL a phone uses to reach the server through this proxy. */
    val url = "http://127.0.0.1:${server.localPort}"

    @Volatile
    var mode = Mode.UP
        set(value) {
            field = value
            dropAll()
        }

    init {
        thread(isDaemon = true, name = "link-proxy") {
            while (!server.isClosed) {
                val s = try { server.accept() } catch (e: IOException) { break }
                handle(s)
            }
        }
    }

    private fun handle(client: Socket) {
        when (mode) {
            Mode.DOWN -> client.close()
            Mode.BLACKHOLE -> open.add(client)
            Mode.UP -> {
                val upstream = try {
                    Socket(InetAddress.getLoopbackAddress(), targetPort)
                } catch (e: IOException) {
                    client.close()
                    return
                }
                open.add(client)
                open.add(upstream)
                pipe(client, upstream)
                pipe(upstream, client)
            }
        }
    }

    private fun pipe(from: Socket, to: Socket) = thread(isDaemon = true, name = "link-pipe") {
        try {
            from.getInputStream().copyTo(to.getOutputStream(), 8192)
        } catch (e: IOException) {
            // the other side went away
        } finally {
            from.close()
            to.close()
            open.remove(from)
            open.remove(to)
        }
    }

    private fun dropAll() {
        for (s in open) {
            try { s.close() } catch (e: IOException) { }
        }
        open.clear()
    }

    override fun close() {
        server.close()
        dropAll()
    }
}

/** A phone: a client on its own data dir behind its own link to the server. */
class Phone(name: String, config: ClientConfig = Env.fastConfig) : AutoCloseable {
    val link = LinkProxy()
    val dataDir = Env.dataDir(name)
    val client = FieldClient(dataDir, link.url, Env.storeKey, config)

    /** Logs in as a demo user and pulls their jurisdiction. */
    suspend fun signIn(username: String) {
        val c = Env.user(username)
        client.login(c.username, c.password)
        client.sync()
    }

    override fun close() {
        client.close()
        link.close()
    }
}

/**
 * Opens a client on a data dir a test just closed. The store lets go of its
 * lock a moment after the client is closed, so a `storage` error about the
 * lock is retried briefly; any other outcome (a client, or e.g. WrongStoreKey)
 * is returned or thrown as it is.
 */
fun reopen(dataDir: String, url: String, key: ByteArray = Env.storeKey, config: ClientConfig = Env.fastConfig): FieldClient {
    var last: FengqiaoException.Storage? = null
    repeat(100) {
        try {
            return FieldClient(dataDir, url, key, config)
        } catch (e: FengqiaoException.Storage) {
            if (!e.detail.contains("占用") && !e.detail.contains("held")) throw e
            last = e
            Thread.sleep(30)
        }
    }
    throw last ?: IllegalStateException("unreachable")
}

/** The county admin's HTTP calls, straight to the server (no phone core). */
object AdminApi {
    private val http: HttpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    private fun send(req: HttpRequest.Builder): HttpResponse<String> =
        http.send(req.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString())

    /** `POST /v1/auth/login` as a demo user; returns the access token. */
    fun token(username: String): String = Env.user(username).let { login(it.username, it.password) }

    /** `POST /v1/auth/login` with a username and password; returns the access token. */
    fun login(username: String, password: String): String {
        val body = """{"username":"$username","password":"$password"}"""
        val r = send(
            HttpRequest.newBuilder(URI("${Env.serverUrl}/v1/auth/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)),
        )
        check(r.statusCode() == 200) { "login of $username: HTTP ${r.statusCode()} ${r.body()}" }
        return Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"").find(r.body())?.groupValues?.get(1)
            ?: throw IllegalStateException("no access_token in the login answer")
    }

    /**
     * `POST /v1/sync/push` of one operation as the token's user (`author`), for
     * what no phone call makes (e.g. a secretary adopting village rules, the
     * judicial office reviewing them); returns the outcome's `status` (`applied`, `rejected`, …).
     */
    fun pushOp(token: String, author: String, kind: String, bodyJson: String): String {
        val op = """{"op_id":"${java.util.UUID.randomUUID()}","v":1,"author":"$author","created_at":"${java.time.Instant.now()}","op":{"kind":"$kind","body":$bodyJson}}"""
        val r = send(
            HttpRequest.newBuilder(URI("${Env.serverUrl}/v1/sync/push"))
                .header("Authorization", "Bearer $token")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""{"v":1,"ops":[$op]}""")),
        )
        check(r.statusCode() == 200) { "push $kind: HTTP ${r.statusCode()} ${r.body()}" }
        return Regex("\"status\"\\s*:\\s*\"([^\"]+)\"").find(r.body())?.groupValues?.get(1)
            ?: throw IllegalStateException("no outcome in ${r.body()}")
    }

    /**
     * `POST /v1/admin/import?name=` of one CSV file as the county admin (e.g. the
     * org's units, or users with their initial passwords); fails unless written.
     */
    fun importCsv(token: String, name: String, csv: String) {
        val r = send(
            HttpRequest.newBuilder(URI("${Env.serverUrl}/v1/admin/import?name=$name"))
                .header("Authorization", "Bearer $token")
                .POST(HttpRequest.BodyPublishers.ofString(csv)),
        )
        check(r.statusCode() == 200 && Regex("\"written\"\\s*:\\s*true").containsMatchIn(r.body())) {
            "import $name: HTTP ${r.statusCode()} ${r.body()}"
        }
    }

    /** An imported user's first sign-in: replaces the initial password (`POST /v1/auth/password`). */
    fun changePassword(username: String, initial: String, next: String) {
        val token = login(username, initial)
        val r = send(
            HttpRequest.newBuilder(URI("${Env.serverUrl}/v1/auth/password"))
                .header("Authorization", "Bearer $token")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""{"old_password":"$initial","new_password":"$next"}""")),
        )
        check(r.statusCode() == 204) { "password of $username: HTTP ${r.statusCode()} ${r.body()}" }
    }

    /** `GET` of a server path (with its query) as the token's user; fails unless 200; returns the body. */
    fun get(token: String, pathAndQuery: String): String {
        val r = send(
            HttpRequest.newBuilder(URI("${Env.serverUrl}$pathAndQuery"))
                .header("Authorization", "Bearer $token")
                .GET(),
        )
        check(r.statusCode() == 200) { "GET $pathAndQuery: HTTP ${r.statusCode()} ${r.body()}" }
        return r.body()
    }

    /** `GET /v1/admin/users/{id}/devices`: the ids of the user's known devices. */
    fun deviceIds(token: String, userId: String): List<String> {
        val r = send(
            HttpRequest.newBuilder(URI("${Env.serverUrl}/v1/admin/users/$userId/devices"))
                .header("Authorization", "Bearer $token")
                .GET(),
        )
        check(r.statusCode() == 200) { "devices of $userId: HTTP ${r.statusCode()} ${r.body()}" }
        return Regex("\"device_id\"\\s*:\\s*\"([^\"]+)\"").findAll(r.body()).map { it.groupValues[1] }.distinct().toList()
    }

    /** `POST /v1/admin/users/{id}/devices/{device}/revoke`; returns the HTTP status. */
    fun revokeDevice(token: String, userId: String, deviceId: String): Int =
        send(
            HttpRequest.newBuilder(URI("${Env.serverUrl}/v1/admin/users/$userId/devices/$deviceId/revoke"))
                .header("Authorization", "Bearer $token")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")),
        ).statusCode()
}
