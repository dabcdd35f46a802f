// Visits recorded offline, sync with a Kotlin progress listener, statuses,
// cancellation (by token and by coroutine) leaving the outbox intact.
package org.fengqiao.jvmtests

import java.util.Collections
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import org.fengqiao.core.CancelToken
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.GeoPoint
import org.fengqiao.core.NewVisit
import org.fengqiao.core.SyncListener
import org.fengqiao.core.SyncPhase
import org.fengqiao.core.VisitKind

/** Progress events as a Kotlin listener receives them (from the core's threads). */
class RecordingListener : SyncListener {
    val events: MutableList<Triple<SyncPhase, ULong, ULong>> = Collections.synchronizedList(mutableListOf())
    override fun onProgress(phase: SyncPhase, done: ULong, total: ULong) {
        events += Triple(phase, done, total)
    }
}

/** Waits (briefly) until the cancelled sync has wound down and recorded why. */
suspend fun awaitLastError(phone: Phone, code: String) {
    repeat(50) {
        if (phone.client.syncStatus().lastError?.code == code) return
        delay(100)
    }
    throw AssertionError("last sync error never became $code: ${phone.client.syncStatus().lastError}")
}

val visitSyncTests = Suite("visits and sync").apply {
    test("a first pull reports its progress to the feed's end; an open app learns of a colleague's visit within seconds") {
        // A leader few other tests use: each phone signed in reserves a case-number block,
        // and a user may hold only so many.
        val user = "leader.t2v2g1"
        Phone("first-pull").use { phone ->
            val c = Env.user(user)
            phone.client.login(c.username, c.password)
            val listener = RecordingListener()
            phone.client.sync(listener)
            val pulling = listener.events.filter { it.first == SyncPhase.PULLING }
            assertTrue(pulling.isNotEmpty() && pulling.all { it.third > 0uL && it.second <= it.third }, "known totals: $pulling")
            assertEquals(pulling.last().second, pulling.last().third, "the first pull reached the feed's end")

            assertNull(phone.client.waitAndSync(1u), "nothing changed within a second")
            Phone("colleague").use { colleague ->
                colleague.signIn(user)
                coroutineScope {
                    val waiting = async { phone.client.waitAndSync(20u) }
                    delay(300)
                    val home = colleague.client.households().first()
                    val v = colleague.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.ROUTINE, notes = "邻里和睦"))
                    val pushedAt = System.nanoTime()
                    assertEquals(1uL, colleague.client.sync().pushedApplied)
                    val report = assertNotNull(withTimeoutOrNull(5_000) { waiting.await() }, "the wait answered and a sync ran")
                    val ms = (System.nanoTime() - pushedAt) / 1_000_000
                    assertTrue(ms < 3_000, "within three seconds of the colleague's sync: $ms ms")
                    assertTrue(report.pulled >= 1uL)
                    assertTrue(phone.client.listVisits(100u).any { it.visit.id == v.id }, "the colleague's visit is on the phone")
                }
            }
        }
    }

    test("visits recorded offline are pending; a sync with a Kotlin listener sends them") {
        Phone("offline").use { phone ->
            phone.signIn("leader.t1v1g1")
            val homes = phone.client.households()
            assertTrue(homes.size >= 2, "the leader's group has households")
            val group = phone.client.currentUser()!!.roles.single().unitId
            assertTrue(homes.all { it.groupId == group }, "only the leader's own group is pulled")

            phone.link.mode = LinkProxy.Mode.DOWN
            val routine = phone.client.recordVisit(NewVisit(householdId = homes[0].id, kind = VisitKind.ROUTINE, notes = "院子干净，无矛盾"))
            val lead = phone.client.recordVisit(
                NewVisit(
                    householdId = homes[1].id,
                    kind = VisitKind.LEAD_FOUND,
                    notes = "两户因宅基地界线争吵",
                    location = GeoPoint(lat = 41.95, lon = 123.43),
                    leads = listOf("宅基地界线"),
                ),
            )
            assertEquals(1, lead.leads.size)
            val mine = phone.client.listVisits(50u).filter { it.visit.id in setOf(routine.id, lead.id) }
            assertEquals(2, mine.size)
            assertTrue(mine.all { it.pending && !it.quarantined })

            val offline = assertFailsWith<FengqiaoException.Network> { phone.client.sync() }
            assertEquals("network", offline.code())
            assertTrue(offline.isTransient())
            val waiting = phone.client.syncStatus()
            assertEquals(2uL, waiting.pendingOps)
            assertEquals("network", waiting.lastError?.code)

            phone.link.mode = LinkProxy.Mode.UP
            val listener = RecordingListener()
            val report = phone.client.sync(listener)
            assertEquals(2uL, report.pushedApplied)
            assertEquals(0uL, report.rejected)
            val pushing = listener.events.filter { it.first == SyncPhase.PUSHING }
            assertTrue(pushing.isNotEmpty(), "push progress reached Kotlin: ${listener.events}")
            assertEquals(Triple(SyncPhase.PUSHING, 2uL, 2uL), pushing.last())
            assertTrue(listener.events.any { it.first == SyncPhase.PULLING }, "pull progress reached Kotlin")

            val after = phone.client.listVisits(50u).filter { it.visit.id in setOf(routine.id, lead.id) }
            assertTrue(after.size == 2 && after.none { it.pending }, "both confirmed by the server: $after")
            val status = phone.client.syncStatus()
            assertEquals(0uL, status.pendingOps)
            assertNull(status.lastError)
            assertNotNull(status.lastSyncAtMs)
            assertTrue(status.quarantined.isEmpty())
        }
    }

    test("the village secretary sees the group's synced visit") {
        val visitId = Phone("leader").use { leader ->
            leader.signIn("leader.t1v1g2")
            val home = leader.client.households().first()
            val v = leader.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.LEGAL_PUBLICITY, notes = "普法宣传：土地承包法"))
            assertEquals(1uL, leader.client.sync().pushedApplied)
            v.id
        }
        Phone("secretary").use { secretary ->
            secretary.signIn("secretary.t1v1")
            val seen = secretary.client.listVisits(500u).find { it.visit.id == visitId }
            assertNotNull(seen, "the visit reached the village secretary")
            assertEquals(VisitKind.LEGAL_PUBLICITY, seen.visit.kind)
            assertTrue(!seen.pending)
        }
    }

    test("cancelling the coroutine of a sync leaves the outbox intact; a later sync sends it") {
        Phone("coroutine-cancel").use { phone ->
            phone.signIn("leader.t1v1g1")
            val home = phone.client.households().first()
            val v = phone.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.FOLLOW_UP, notes = "回访"))
            phone.link.mode = LinkProxy.Mode.BLACKHOLE

            // withTimeout cancels the suspended sync while its push hangs. It can only
            // fire because the sync does not block this (runBlocking's only) thread.
            assertNull(withTimeoutOrNull(700) { phone.client.sync() })
            awaitLastError(phone, "cancelled")
            assertEquals(1uL, phone.client.syncStatus().pendingOps)

            // And Job.cancel() of a launched sync, the way a screen's scope ends.
            coroutineScope {
                val job = launch { phone.client.sync() }
                delay(300)
                job.cancel()
                job.join()
            }
            assertEquals(1uL, phone.client.syncStatus().pendingOps)
            assertTrue(phone.client.listVisits(50u).single { it.visit.id == v.id }.pending)

            phone.link.mode = LinkProxy.Mode.UP
            val report = phone.client.sync()
            assertEquals(1uL, report.pushedApplied + report.pushedDuplicate)
            assertEquals(0uL, phone.client.syncStatus().pendingOps)
            assertTrue(!phone.client.listVisits(50u).single { it.visit.id == v.id }.pending)
        }
    }

    test("a CancelToken stops a sync with code cancelled, queued work intact") {
        Phone("token-cancel").use { phone ->
            phone.signIn("leader.t1v1g3")
            val home = phone.client.households().first()
            phone.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.ROUTINE))
            phone.link.mode = LinkProxy.Mode.BLACKHOLE
            val token = CancelToken()
            val e = coroutineScope {
                val running = async { runCatching { phone.client.sync(null, token) } }
                delay(300)
                token.cancel()
                running.await().exceptionOrNull()
            }
            assertTrue(e is FengqiaoException.Cancelled, "expected Cancelled, got $e")
            assertEquals("cancelled", e.code())
            assertTrue(token.isCancelled())
            assertEquals(1uL, phone.client.syncStatus().pendingOps)
            assertEquals("cancelled", phone.client.syncStatus().lastError?.code)

            phone.link.mode = LinkProxy.Mode.UP
            assertEquals(1uL, phone.client.sync(null, CancelToken()).pushedApplied)
        }
    }

    test("a listener that throws does not break the sync") {
        Phone("bad-listener").use { phone ->
            phone.signIn("leader.t1v1g1")
            val home = phone.client.households().first()
            phone.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.ROUTINE))
            val throwing = object : SyncListener {
                override fun onProgress(phase: SyncPhase, done: ULong, total: ULong) {
                    throw IllegalStateException("a buggy screen")
                }
            }
            println("  (expected below: the core logs the listener's failure as a caught panic)")
            assertEquals(1uL, phone.client.sync(throwing).pushedApplied)
        }
    }
}
