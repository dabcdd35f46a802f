// The gateways over the real FieldClient for what the bindings have had from
// the start (session, visits, photos, sync) and for the phone lock. Store reads and writes run on
// `io` (Dispatchers.IO in the app), never on the UI thread; network calls are
// already suspending and run on the core's own threads.
package org.fengqiao.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.fengqiao.core.AttachedPhoto
import org.fengqiao.core.Attachment
import org.fengqiao.core.EscalationDecision
import org.fengqiao.core.FieldClient
import org.fengqiao.core.Household
import org.fengqiao.core.LockStatus
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewVisit
import org.fengqiao.core.SyncListener
import org.fengqiao.core.SyncPhase
import org.fengqiao.core.SyncReport
import org.fengqiao.core.SyncStatus
import org.fengqiao.core.User
import org.fengqiao.core.Visit
import org.fengqiao.core.VisitItem

class CoreGateways(
    private val client: FieldClient,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : SessionGateway, VisitsGateway, SyncGateway, LockGateway {

    override fun currentUser(): User? = client.currentUser()
    override suspend fun login(username: String, password: String): User = client.login(username, password)
    override suspend fun logout() = client.logout()
    override suspend fun logoutWithPassword(password: String) = client.logoutWithPassword(password)

    override suspend fun households(): List<Household> = withContext(io) { client.households() }
    override suspend fun listVisits(limit: UInt): List<VisitItem> = withContext(io) { client.listVisits(limit) }
    override suspend fun recordVisit(visit: NewVisit): Visit = withContext(io) { client.recordVisit(visit) }
    override suspend fun attachPhoto(photo: NewPhoto): Attachment = withContext(io) { client.attachPhoto(photo) }
    override suspend fun photosFor(targetKind: String, targetId: String): List<AttachedPhoto> =
        withContext(io) { client.photosFor(targetKind, targetId) }
    override suspend fun photoBytes(sha256: String): ByteArray? = withContext(io) { client.photoBytes(sha256) }

    override suspend fun sync(onProgress: (SyncPhase, ULong, ULong) -> Unit): SyncReport {
        val relay = onProgress
        val listener = object : SyncListener {
            // Called on one of the core's threads; the state's flow update is thread-safe.
            override fun onProgress(phase: SyncPhase, done: ULong, total: ULong) = relay(phase, done, total)
        }
        return client.sync(listener)
    }
    override suspend fun waitAndSync(timeoutSecs: UInt, onProgress: (SyncPhase, ULong, ULong) -> Unit): SyncReport? {
        val relay = onProgress
        val listener = object : SyncListener {
            override fun onProgress(phase: SyncPhase, done: ULong, total: ULong) = relay(phase, done, total)
        }
        return client.waitAndSync(timeoutSecs, listener)
    }
    override suspend fun syncStatus(): SyncStatus = withContext(io) { client.syncStatus() }
    override suspend fun retryQuarantined(opId: String) = withContext(io) { client.retryQuarantined(opId) }
    override suspend fun discardQuarantined(opId: String) = withContext(io) { client.discardQuarantined(opId) }
    override suspend fun standingDecision(opId: String): EscalationDecision? = withContext(io) { client.standingDecision(opId) }

    override suspend fun lockStatus(): LockStatus = withContext(io) { client.lockStatus() }
    override fun lock() = client.lock()
    override suspend fun unlock(pin: String) = withContext(io) { client.unlock(pin) }
    override suspend fun unlockWithBiometric(verified: Boolean) = withContext(io) { client.unlockWithBiometric(verified) }
    override suspend fun setPin(pin: String, allowBiometric: Boolean) = withContext(io) { client.setPin(pin, allowBiometric) }
    override suspend fun clearPin() = withContext(io) { client.clearPin() }
}
