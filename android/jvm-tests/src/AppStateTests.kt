// The Android app's screen state (android/app/src/main/kotlin/org/fengqiao/app/state),
// compiled here with the bindings: each state class with fake gateways (no
// server), and the session, visit, photo and sync states against the real
// client and server.
package org.fengqiao.jvmtests

import java.io.File
import java.util.Collections
import kotlin.random.Random
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.yield
import org.fengqiao.app.state.CapturedPhoto
import org.fengqiao.app.state.CoreGateways
import org.fengqiao.app.state.DeadlineState
import org.fengqiao.app.state.DisputeAnalysis
import org.fengqiao.app.state.DisputeDetail
import org.fengqiao.app.state.DisputeDetailState
import org.fengqiao.app.state.DisputeFilter
import org.fengqiao.app.state.DisputeGrade
import org.fengqiao.app.state.DisputeListState
import org.fengqiao.app.state.DisputeRow
import org.fengqiao.app.state.DisputesGateway
import org.fengqiao.app.state.EscalationReasonCode
import org.fengqiao.app.state.FlowRow
import org.fengqiao.app.state.InboxGateway
import org.fengqiao.app.state.InboxRow
import org.fengqiao.app.state.InboxState
import org.fengqiao.app.state.LadderGateways
import org.fengqiao.app.state.LadderLevel
import org.fengqiao.app.state.LocalCodes
import org.fengqiao.app.state.LoginState
import org.fengqiao.app.state.Money
import org.fengqiao.app.state.OfficeOption
import org.fengqiao.app.state.NewVisitState
import org.fengqiao.app.state.PhotoRow
import org.fengqiao.app.state.SessionGateway
import org.fengqiao.app.state.SubsidiesGateway
import org.fengqiao.app.state.SubsidiesState
import org.fengqiao.app.state.MySubsidiesView
import org.fengqiao.app.state.SubsidyRow
import org.fengqiao.app.state.SubsidyStatusCode
import org.fengqiao.app.state.SubsidyTotals
import org.fengqiao.app.state.SyncGateway
import org.fengqiao.app.state.SyncState
import org.fengqiao.app.state.UiError
import org.fengqiao.app.state.UploadStage
import org.fengqiao.app.state.VisitListState
import org.fengqiao.app.state.VisitPhotosState
import org.fengqiao.app.state.WorkerOutcome
import org.fengqiao.core.Analysis
import org.fengqiao.core.Difficulty
import org.fengqiao.core.EscalationDecision
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.Grade
import org.fengqiao.core.NewDispute
import org.fengqiao.core.Party
import org.fengqiao.core.PhotoStatus
import org.fengqiao.core.PhotoUploadState
import org.fengqiao.core.QuarantinedOp
import org.fengqiao.core.RoleGrant
import org.fengqiao.core.Role
import org.fengqiao.core.SyncPhase
import org.fengqiao.core.SyncReport
import org.fengqiao.core.SyncStatus
import org.fengqiao.core.User
import org.fengqiao.core.VisitKind

// ---- fakes ----

private val someUser = User("0190f3c2-0000-7000-8000-0000000000aa", "leader.x", "组长甲", listOf(RoleGrant(Role.GROUP_LEADER, "0190f3c2-0000-7000-8000-0000000000bb", "一组")))

private class FakeSession : SessionGateway {
    var user: User? = null
    var failWith: Exception? = null
    val attempts = mutableListOf<Pair<String, String>>()
    override fun currentUser() = user
    override suspend fun login(username: String, password: String): User {
        attempts += username to password
        failWith?.let { throw it }
        return someUser.also { user = it }
    }
    override suspend fun logout() { user = null }
    override suspend fun logoutWithPassword(password: String) {
        attempts += (user?.username ?: "") to password
        failWith?.let { throw it }
        user = null
    }
}

private fun emptyReport() = SyncReport(0uL, 0uL, 0uL, 0uL, 0uL, 0uL, 0uL, 0uL, 0uL, false, 0uL, 0uL, 0uL)

private fun status(pending: ULong = 0uL, quarantined: List<QuarantinedOp> = emptyList(), expired: Boolean = false, photos: ULong = 0uL) =
    SyncStatus(pending, 0uL, null, null, quarantined, expired, photos, 0uL)

private class FakeSync : SyncGateway {
    var status = status()
    var gate: CompletableDeferred<Unit>? = null
    var failWith: Exception? = null
    val retried = mutableListOf<String>()
    val discarded = mutableListOf<String>()
    override suspend fun sync(onProgress: (SyncPhase, ULong, ULong) -> Unit): SyncReport {
        onProgress(SyncPhase.PUSHING, 1uL, 4uL)
        gate?.await()
        failWith?.let { throw it }
        onProgress(SyncPhase.PULLING, 7uL, 0uL)
        status = status()
        return emptyReport().copy(pushedApplied = 4uL, pulled = 7uL)
    }
    override suspend fun syncStatus() = status
    override suspend fun retryQuarantined(opId: String) {
        if (status.quarantined.none { it.opId == opId }) throw FengqiaoException.NotFound("not_found", "no such op")
        retried += opId
        status = status.copy(quarantined = status.quarantined.filter { it.opId != opId }, pendingOps = status.pendingOps + 1uL)
    }
    override suspend fun discardQuarantined(opId: String) {
        discarded += opId
        status = status.copy(quarantined = status.quarantined.filter { it.opId != opId })
    }
    val standing = mutableMapOf<String, EscalationDecision>()
    override suspend fun standingDecision(opId: String): EscalationDecision? = standing[opId]
    /** What each wait answers, in turn (a null: nothing changed); then the wait hangs. */
    val waits = ArrayDeque<Any?>()
    var waitCalls = 0
    override suspend fun waitAndSync(timeoutSecs: UInt, onProgress: (SyncPhase, ULong, ULong) -> Unit): SyncReport? {
        waitCalls++
        if (waits.isEmpty()) kotlinx.coroutines.awaitCancellation()
        return when (val next = waits.removeFirst()) {
            is Exception -> throw next
            is SyncReport -> {
                onProgress(SyncPhase.PULLING, 5uL, 10uL)
                next
            }
            else -> null
        }
    }
}

private fun quarantinedOp(id: String) = QuarantinedOp(id, "record_visit", null, "invalid_field", "notes too long", null, 1_767_225_600_000)

private fun dispute(id: String, deadline: Long, closed: Boolean = false, mine: Boolean = false, state: DeadlineState? = DeadlineState.OK) =
    DisputeRow(id, "T1V1-2026-$id", "neighbour", "邻里纠纷", DisputeGrade.GENERAL, LadderLevel.GROUP, deadline, if (closed) null else state, closed, handledByMe = mine)

private class FakeDisputes(val detail: DisputeDetail) : DisputesGateway {
    val requests = mutableListOf<Triple<LadderLevel, EscalationReasonCode, String>>()
    var rows = listOf(detail.row)
    /** The core's list per filter (default: [rows] for every filter). */
    var byFilter = mapOf<DisputeFilter, List<DisputeRow>>()
    val asked = mutableListOf<DisputeFilter>()
    var current = detail
    override suspend fun disputes(filter: DisputeFilter): List<DisputeRow> {
        asked += filter
        return byFilter[filter] ?: rows
    }
    override suspend fun detail(disputeId: String) = current
    val offices = mutableListOf<String?>()
    override suspend fun regrade(disputeId: String, grade: DisputeGrade, analysis: DisputeAnalysis, reason: String) {
        error("the fake's screens do not re-grade")
    }
    override suspend fun requestEscalation(disputeId: String, toLevel: LadderLevel, reason: EscalationReasonCode, note: String, office: String?) {
        requests += Triple(toLevel, reason, note)
        offices += office
        current = current.copy(row = current.row.copy(pendingEscalationTo = toLevel, pending = true), escalateTo = emptyList())
    }
}

private fun inboxRow(id: String, grade: DisputeGrade, at: Long) =
    InboxRow(id, "d-$id", "T1V1-$id", "土地纠纷", grade, LadderLevel.GROUP, LadderLevel.VILLAGE, EscalationReasonCode.REPEATED_MEDIATION_FAILED, "屡调不成", at)

private class FakeInbox(var rows: List<InboxRow>) : InboxGateway {
    val decisions = mutableListOf<Triple<String, Boolean, String>>()
    var failWith: Exception? = null
    override suspend fun inbox() = rows
    override suspend fun decide(escalationId: String, approve: Boolean, comment: String) {
        failWith?.let { throw it }
        // as the core does (the domain's rule, checked offline)
        if (!approve && comment.isBlank()) throw FengqiaoException.InvalidInput("invalid_input", "invalid_field", "comment: say why when refusing")
        decisions += Triple(escalationId, approve, comment)
    }
}

private fun smallJpeg(dir: String, size: Int): File =
    File(dir, "app-camera-${System.nanoTime()}.jpg").also { it.writeBytes(jpegOfSize(size, 7)) }

val appStateTests = Suite("app state").apply {
    // ---- with fakes ----

    test("following changes: a wait that saw a change brings its report; offline pauses; a lost session stops") {
        val gw = FakeSync()
        gw.waits.addAll(listOf(null, FengqiaoException.Network("network", "offline"), emptyReport().copy(pulled = 3uL)))
        val state = SyncState(gw)
        coroutineScope {
            val job = launch { state.followChanges(timeoutSecs = 1u, pauseOnErrorMs = 10) }
            repeat(200) { if (gw.waitCalls < 4) delay(5) }
            assertEquals(4, gw.waitCalls, "waited again after nothing, after offline, after the report")
            assertEquals(3uL, state.ui.value.lastReport?.pulled, "the change was pulled")
            assertNull(state.ui.value.progress, "no progress left over")
            job.cancel()
        }
        gw.waits.add(FengqiaoException.SessionExpired("session_expired", "log in again"))
        kotlinx.coroutines.withTimeout(2_000) { state.followChanges(timeoutSecs = 1u, pauseOnErrorMs = 10) }
        assertTrue(state.ui.value.needsLogin, "stopped, asking for a login: ${state.ui.value.error}")
    }

    test("login: blank fields are refused locally, the core is not called") {
        val gw = FakeSession()
        val s = LoginState(gw)
        assertFalse(s.ui.value.canSubmit)
        assertFalse(s.submit())
        assertEquals(LocalCodes.MISSING_CREDENTIALS, s.ui.value.error?.code)
        assertTrue(gw.attempts.isEmpty())
    }

    test("login: success keeps the user and clears the password; logout forgets the user") {
        val gw = FakeSession()
        val s = LoginState(gw)
        s.onUsername("  leader.x ")
        s.onPassword("secret")
        assertTrue(s.ui.value.canSubmit)
        assertTrue(s.submit())
        assertEquals(listOf("leader.x" to "secret"), gw.attempts, "the username is trimmed")
        assertEquals(someUser, s.ui.value.user)
        assertEquals("", s.ui.value.password)
        assertFalse(s.ui.value.busy)
        s.logout()
        assertNull(s.ui.value.user)
    }

    test("login: a refusal shows the core's code and clears the password") {
        val gw = FakeSession().apply { failWith = FengqiaoException.InvalidCredentials("invalid_credentials", "wrong username or password") }
        val s = LoginState(gw)
        s.onUsername("leader.x"); s.onPassword("bad")
        assertFalse(s.submit())
        assertEquals("invalid_credentials", s.ui.value.error?.code)
        assertEquals("", s.ui.value.password)
        assertFalse(s.ui.value.signedIn)
        assertTrue(LoginState(FakeSession().apply { user = someUser }).ui.value.signedIn, "a cached session signs in offline")
    }

    test("errors: typed exceptions keep code and transience; others become internal") {
        val net = UiError.of(FengqiaoException.Network("network", "offline"))
        assertEquals(UiError("network", "offline", true), net)
        assertTrue(UiError.of(FengqiaoException.SessionExpired("session_expired", "log in")).needsLogin)
        assertEquals("internal", UiError.of(IllegalStateException("x")).code)
    }

    test("sync: progress is reported while running, then cleared; the status is refreshed") {
        val gw = FakeSync().apply { status = status(pending = 4uL); gate = CompletableDeferred() }
        val s = SyncState(gw)
        s.refresh()
        assertTrue(s.ui.value.hasPending)
        coroutineScope {
            val run = async { s.syncNow() }
            while (s.ui.value.progress == null) yield()
            assertTrue(s.ui.value.running)
            assertEquals(SyncPhase.PUSHING, s.ui.value.progress?.phase)
            assertEquals(25, s.ui.value.progress?.percent)
            assertNull(s.syncNow(), "a second sync while one runs does nothing")
            gw.gate!!.complete(Unit)
            val report = assertNotNull(run.await())
            assertEquals(4uL, report.pushedApplied)
        }
        assertFalse(s.ui.value.running)
        assertNull(s.ui.value.progress)
        assertFalse(s.ui.value.hasPending)
        assertEquals(7uL, s.ui.value.lastReport?.pulled)
    }

    test("sync: a failure is shown and decides the worker's outcome") {
        val gw = FakeSync().apply { failWith = FengqiaoException.Network("network", "offline") }
        val s = SyncState(gw)
        assertNull(s.syncNow())
        assertEquals("network", s.ui.value.error?.code)
        assertEquals(WorkerOutcome.RETRY, SyncState.workerOutcome(s.ui.value.error))
        assertEquals(WorkerOutcome.SUCCESS, SyncState.workerOutcome(null))
        assertEquals(WorkerOutcome.FAILURE, SyncState.workerOutcome(UiError("session_expired")))
        assertEquals(WorkerOutcome.FAILURE, SyncState.workerOutcome(UiError("protocol")))
        assertEquals(WorkerOutcome.RETRY, SyncState.workerOutcome(UiError("cancelled")))
    }

    test("sync: cancel stops a running sync and the next one runs") {
        val gw = FakeSync().apply { gate = CompletableDeferred() }
        val s = SyncState(gw)
        coroutineScope {
            val run = async { s.syncNow() }
            while (!s.ui.value.running) yield()
            s.cancel()
            assertTrue(runCatching { run.await() }.isFailure)
        }
        assertFalse(s.ui.value.running)
        assertEquals("cancelled", s.ui.value.error?.code)
        gw.gate = null
        assertNotNull(s.syncNow())
    }

    test("sync: a decision that lost to another approver's shows the one that stands, the decider by name") {
        val lost = QuarantinedOp("op-lost", "decide_escalation", null, "conflict", "decided already", null, 1_767_225_600_000)
        val gw = FakeSync().apply {
            status = status(quarantined = listOf(lost, quarantinedOp("op-other")))
            standing["op-lost"] = EscalationDecision(true, "村书记同意", "0190f3c2-0000-7000-8000-0000000000cc", "东升村书记", 1_767_225_600_000)
        }
        val s = SyncState(gw)
        s.refresh()
        assertEquals("东升村书记", s.ui.value.standing["op-lost"]?.decidedByName)
        assertEquals(setOf("op-lost"), s.ui.value.standing.keys, "only decisions that lost a race")
        s.discard("op-lost")
        assertTrue(s.ui.value.standing.isEmpty(), "gone with its op")
    }

    test("sync: quarantined ops are retried or discarded only by id, and a missing one is an error") {
        val gw = FakeSync().apply { status = status(quarantined = listOf(quarantinedOp("op-1"), quarantinedOp("op-2"))) }
        val s = SyncState(gw)
        s.refresh()
        assertEquals(2, s.ui.value.quarantined.size)
        assertTrue(s.retry("op-1"))
        assertEquals(listOf("op-1"), gw.retried)
        assertEquals(1uL, s.ui.value.status?.pendingOps)
        assertTrue(s.discard("op-2"))
        assertEquals(listOf("op-2"), gw.discarded)
        assertTrue(s.ui.value.quarantined.isEmpty())
        assertFalse(s.retry("op-1"))
        assertEquals("not_found", s.ui.value.error?.code)
        assertNull(s.ui.value.busyOpId)
        gw.status = status(expired = true)
        s.refresh()
        assertTrue(s.ui.value.needsLogin)
    }

    test("disputes: each list is the core's, shown as it comes (the app neither filters nor sorts)") {
        // Orders and memberships the app's own rules would change: a closed row
        // before an open one, deadlines descending, a closed dispute the user
        // reported but does not handle in "mine", and an "overdue" row whose
        // state the app would not call overdue.
        val all = listOf(dispute("c", 50, closed = true), dispute("a", 300), dispute("b", 100, mine = true))
        val mine = listOf(dispute("d", 900, closed = true), dispute("b", 100, mine = true), dispute("a", 300))
        val overdue = listOf(dispute("e", 200, state = DeadlineState.APPROACHING))
        val gw = FakeDisputes(DisputeDetail(all[0], emptyList(), emptyList())).apply {
            byFilter = mapOf(DisputeFilter.ALL to all, DisputeFilter.MINE to mine, DisputeFilter.OVERDUE to overdue)
        }
        val s = DisputeListState(gw)
        s.refresh()
        assertEquals(listOf("c", "a", "b"), s.ui.value.rows.map { it.id })
        s.setFilter(DisputeFilter.MINE)
        assertEquals(listOf("d", "b", "a"), s.ui.value.rows.map { it.id })
        s.setFilter(DisputeFilter.OVERDUE)
        assertEquals(listOf("e"), s.ui.value.rows.map { it.id })
        assertEquals(listOf(DisputeFilter.ALL, DisputeFilter.MINE, DisputeFilter.OVERDUE), gw.asked, "one core call per list shown")
        gw.byFilter = mapOf(DisputeFilter.OVERDUE to emptyList())
        s.refresh()
        assertTrue(s.ui.value.rows.isEmpty(), "a refresh asks the core again for the chosen list")
    }

    test("dispute detail: the escalation form offers only allowed levels and checks its fields") {
        val row = dispute("x", 100, mine = true)
        val flow = listOf(FlowRow(1u, "reported", LadderLevel.GROUP, 10, ""))
        val gw = FakeDisputes(DisputeDetail(row, flow, listOf(LadderLevel.VILLAGE)))
        val s = DisputeDetailState(gw, "x")
        s.load()
        assertTrue(s.ui.value.canRequest)
        assertEquals(LadderLevel.VILLAGE, s.ui.value.form.toLevel, "the only allowed level is preselected")
        assertEquals(flow, s.ui.value.detail?.flow)
        assertFalse(s.requestEscalation())
        assertEquals(LocalCodes.REASON_REQUIRED, s.ui.value.error?.code)
        s.chooseLevel(LadderLevel.TOWN)
        s.chooseReason(EscalationReasonCode.OTHER)
        assertEquals(LocalCodes.LEVEL_REQUIRED, s.validate()?.code, "a level the core did not offer")
        s.chooseLevel(LadderLevel.VILLAGE)
        assertEquals(LocalCodes.NOTE_REQUIRED, s.validate()?.code, "'other' needs a note")
        s.setNote(" 双方情绪激动 ")
        assertTrue(s.requestEscalation())
        assertEquals(listOf(Triple(LadderLevel.VILLAGE, EscalationReasonCode.OTHER, "双方情绪激动")), gw.requests)
        assertTrue(s.ui.value.requested)
        assertEquals(LadderLevel.VILLAGE, s.ui.value.detail?.row?.pendingEscalationTo)
        assertFalse(s.ui.value.canRequest, "no second request while one waits")
    }

    test("dispute detail: the core's offices are offered for the judicial office; the choice goes with that level only") {
        val row = dispute("y", 100, mine = true)
        val two = listOf(OfficeOption("o1", "东所"), OfficeOption("o2", "西所"))
        val gw = FakeDisputes(DisputeDetail(row, emptyList(), listOf(LadderLevel.VILLAGE, LadderLevel.JUDICIAL_OFFICE), offices = two))
        val s = DisputeDetailState(gw, "y")
        s.load()
        assertTrue(s.ui.value.officeChoice.isEmpty(), "no level chosen yet")
        s.chooseLevel(LadderLevel.JUDICIAL_OFFICE)
        assertEquals(two, s.ui.value.officeChoice, "the core's list, in its order")
        s.chooseOffice("o2")
        s.chooseLevel(LadderLevel.VILLAGE)
        assertTrue(s.ui.value.officeChoice.isEmpty())
        s.chooseReason(EscalationReasonCode.LARGE_SUMS)
        assertTrue(s.requestEscalation())
        assertEquals(listOf<String?>(null), gw.offices, "no office with a move to the village")

        val one = FakeDisputes(DisputeDetail(row, emptyList(), listOf(LadderLevel.JUDICIAL_OFFICE), offices = two.take(1)))
        val t = DisputeDetailState(one, "y")
        t.load()
        assertTrue(t.ui.value.officeChoice.isEmpty(), "one office: nothing to choose")
        t.chooseReason(EscalationReasonCode.LARGE_SUMS)
        assertTrue(t.requestEscalation())
        assertEquals(listOf<String?>("o1"), one.offices, "the one office serving the town is sent")
    }

    test("inbox: keeps the core's order; the core's refusal of a bare 'no' is shown; decided rows leave") {
        val gw = FakeInbox(listOf(inboxRow("2", DisputeGrade.MAJOR, 30), inboxRow("3", DisputeGrade.GENERAL, 5), inboxRow("1", DisputeGrade.GENERAL, 10)))
        val s = InboxState(gw)
        s.refresh()
        assertEquals(listOf("2", "3", "1"), s.ui.value.rows.map { it.escalationId })
        assertFalse(s.refuse("3"))
        assertEquals("invalid_input", s.ui.value.error?.code)
        assertEquals(listOf("3", "1"), s.ui.value.rows.map { it.escalationId }.drop(1), "a refused decision keeps the row")
        s.setComment("3", "  本组可继续调解 ")
        assertTrue(s.refuse("3"))
        assertTrue(s.approve("2"))
        assertEquals(listOf(Triple("3", false, "本组可继续调解"), Triple("2", true, "")), gw.decisions)
        assertEquals(listOf("1"), s.ui.value.rows.map { it.escalationId })
        s.refresh()
        assertEquals(listOf("1"), s.ui.value.rows.map { it.escalationId }, "decided ones stay out until the pull drops them")
        gw.failWith = FengqiaoException.Rejected("rejected", "role_not_allowed", "not yours")
        assertFalse(s.approve("1"))
        assertEquals("rejected", s.ui.value.error?.code)
        assertEquals(listOf("1"), s.ui.value.rows.map { it.escalationId })
    }

    test("subsidies: the core's order and sums, shown as they come; money in yuan") {
        // an order and sums the app's old rules would have changed (it sorted by
        // overdue, then newest, and added the rows up itself)
        val rows = listOf(
            SubsidyRow("1", "A-1", 20_000, SubsidyStatusCode.PAID, 1, paidAtMs = 5),
            SubsidyRow("2", "A-2", 15_050, SubsidyStatusCode.APPROVED, 3, overdue = true),
            SubsidyRow("3", "A-3", 10_000, SubsidyStatusCode.UNDER_REVIEW, 2, reason = "缺调解协议"),
            SubsidyRow("4", "A-4", 9_999, SubsidyStatusCode.REJECTED, 4),
            SubsidyRow("5", "A-5", 5_000, SubsidyStatusCode.ACCRUED, 6),
        )
        val totals = SubsidyTotals(owedFen = 30_050, underReviewFen = 10_000, paidFen = 20_000, rejectedCount = 1, overdueCount = 7, count = 5)
        val s = SubsidiesState(object : SubsidiesGateway { override suspend fun mySubsidies() = MySubsidiesView(rows, totals) })
        s.refresh()
        val t = s.ui.value.totals
        assertEquals(totals, t, "the core's sums, not the app's")
        assertEquals(listOf("1", "2", "3", "4", "5"), s.ui.value.rows.map { it.id }, "the core's order")
        assertEquals("¥300.50", Money.yuan(t.owedFen))
        assertEquals("¥1,234,567.05", Money.yuan(123_456_705))
        assertEquals("-¥0.07", Money.yuan(-7))
    }

    test("photos: upload stage and progress from the core's photo status") {
        fun st(state: PhotoUploadState, done: ULong) = PhotoStatus("h", 200uL, "image/jpeg", state, done, true, true, true)
        assertEquals(UploadStage.NOT_QUEUED, PhotoRow.stageOf(null))
        assertEquals(UploadStage.WAITING, PhotoRow.stageOf(st(PhotoUploadState.Pending, 0uL)))
        assertEquals(UploadStage.UPLOADING, PhotoRow.stageOf(st(PhotoUploadState.Uploading(50uL, 200uL), 50uL)))
        assertEquals(0.25f, PhotoRow.progressOf(st(PhotoUploadState.Uploading(50uL, 200uL), 50uL), 200uL))
        assertEquals(1f, PhotoRow.progressOf(st(PhotoUploadState.Done, 0uL), 200uL))
        assertEquals(UploadStage.FAILED, PhotoRow.stageOf(st(PhotoUploadState.Failed("photo_too_large", "too large", true), 0uL)))
        assertEquals(UploadStage.FAILED_WILL_RETRY, PhotoRow.stageOf(st(PhotoUploadState.Failed("network", "offline", false), 0uL)))
    }

    // ---- against the real client and server ----

    test("real client: login state with a wrong then the right password") {
        Phone("app-login").use { phone ->
            val s = LoginState(CoreGateways(phone.client))
            assertFalse(s.ui.value.signedIn)
            val c = Env.user("leader.t2v1g1")
            s.onUsername(c.username); s.onPassword(c.password + "x")
            assertFalse(s.submit())
            assertEquals("invalid_credentials", s.ui.value.error?.code)
            s.onPassword(c.password)
            assertTrue(s.submit())
            val user = assertNotNull(s.ui.value.user)
            assertEquals(c.username, user.username)
            assertTrue(user.roles.any { it.role == Role.GROUP_LEADER })
            assertEquals(user, LoginState(CoreGateways(phone.client)).ui.value.user, "the session is cached")
        }
    }

    test("real client: new visit with a lead and a photo offline, listed pending, synced with progress") {
        Phone("app-visit").use { phone ->
            phone.signIn("leader.t2v2g1")
            val gw = CoreGateways(phone.client)
            val form = NewVisitState(gw)
            form.load()
            assertTrue(form.ui.value.households.isNotEmpty())
            form.selectKind(VisitKind.LEAD_FOUND)
            if (form.ui.value.householdId == null) assertEquals(LocalCodes.HOUSEHOLD_REQUIRED, form.validate()?.code)
            form.selectHousehold(form.ui.value.households.first().id)
            assertEquals(LocalCodes.LEAD_REQUIRED, form.validate()?.code)
            form.setLeadDraft("宅基地边界争议")
            form.setNotes("走访时发现")
            form.addPhoto(CapturedPhoto(smallJpeg(phone.dataDir, 120_000).path, caption = "院墙"))
            phone.link.mode = LinkProxy.Mode.DOWN
            val visit = assertNotNull(form.save(), "saved offline: ${form.ui.value.error}")
            assertTrue(form.ui.value.photoErrors.isEmpty(), "${form.ui.value.photoErrors}")
            assertEquals(listOf("宅基地边界争议"), visit.leads.map { it.summary })

            val list = VisitListState(gw)
            list.refresh()
            val row = list.ui.value.rows.single { it.id == visit.id }
            assertTrue(row.pending && !row.quarantined)
            assertEquals(1, row.leadCount)
            assertTrue(list.ui.value.pendingCount >= 1)

            val photos = VisitPhotosState(gw, visit.id)
            photos.refresh()
            assertEquals(UploadStage.WAITING, photos.ui.value.rows.single().stage)
            assertEquals(1, photos.ui.value.pendingCount)
            val shown = photos.ui.value.rows.single()
            assertTrue(shown.onPhone)
            assertNotNull(photos.photoBytes(shown.sha256), "the thumbnail's bytes come from the core")

            val phases = Collections.synchronizedList(mutableListOf<SyncPhase>())
            val recording = object : SyncGateway by gw {
                override suspend fun sync(onProgress: (SyncPhase, ULong, ULong) -> Unit) =
                    gw.sync { p, d, t -> phases += p; onProgress(p, d, t) }
            }
            val sync = SyncState(recording)
            assertNull(sync.syncNow(), "offline")
            assertEquals("network", sync.ui.value.error?.code)
            assertEquals(WorkerOutcome.RETRY, SyncState.workerOutcome(sync.ui.value.error))

            phone.link.mode = LinkProxy.Mode.UP
            val report = assertNotNull(sync.syncNow(), "synced: ${sync.ui.value.error}")
            assertTrue(SyncPhase.UPLOADING in phases, "photo upload progress reached the state: $phases")
            assertNull(sync.ui.value.progress, "cleared when done")
            assertEquals(1uL, report.photosUploaded)
            assertFalse(sync.ui.value.hasPending)
            list.refresh()
            assertFalse(list.ui.value.rows.single { it.id == visit.id }.pending)
            photos.refresh()
            assertEquals(UploadStage.DONE, photos.ui.value.rows.single().stage)
            assertEquals(1f, photos.ui.value.rows.single().progress)
        }
    }

    test("real client: a visit the server refuses shows in the sync state's quarantine and is discarded") {
        Phone("app-quarantine", Env.pinnedPolicyConfig).use { phone ->
            phone.signIn("leader.t2v3g1")
            val gw = CoreGateways(phone.client)
            val form = NewVisitState(gw)
            form.load()
            form.selectHousehold(form.ui.value.households.first().id)
            form.setNotes("调解记录".repeat(SERVER_MAX_NOTES / 4 + 5))
            val visit = assertNotNull(form.save())
            val sync = SyncState(gw)
            val report = assertNotNull(sync.syncNow())
            assertEquals(1uL, report.rejected)
            val q = sync.ui.value.quarantined.single()
            assertEquals(visit.id, q.recordId)
            assertEquals("text_too_long", q.code)
            assertTrue(sync.discard(q.opId))
            assertTrue(sync.ui.value.quarantined.isEmpty())
            val list = VisitListState(gw)
            list.refresh()
            assertTrue(list.ui.value.rows.none { it.id == visit.id })
        }
    }
    test("real client: dispute list, escalation request, approver's inbox and flow table through the ladder gateways") {
        Phone("app-ladder-leader").use { leader ->
            leader.signIn("leader.t2v1g2")
            val group = leader.client.currentUser()!!.roles.single().unitId
            val d = leader.client.reportDispute(
                NewDispute(
                    kind = "neighbour", originUnit = group, parties = listOf(Party(name = "赵六")), summary = "宅基地边界争执",
                    grade = Grade.GENERAL, analysis = Analysis("边界不清", "可能激化", Difficulty.MEDIUM),
                ),
            )
            val ladder = LadderGateways(leader.client)
            val list = DisputeListState(ladder)
            list.refresh()
            val row = list.ui.value.rows.single { it.id == d.id }
            assertTrue(row.pending && row.handledByMe && !row.closed)
            assertEquals(LadderLevel.GROUP, row.level)
            assertEquals(DeadlineState.OK, row.deadlineState)
            list.setFilter(DisputeFilter.MINE)
            assertTrue(list.ui.value.rows.any { it.id == d.id })

            val detail = DisputeDetailState(ladder, d.id)
            detail.load()
            assertEquals(listOf(LadderLevel.VILLAGE), detail.ui.value.detail?.escalateTo)
            assertEquals(LadderLevel.VILLAGE, detail.ui.value.form.toLevel)
            detail.chooseReason(EscalationReasonCode.REPEATED_MEDIATION_FAILED)
            detail.setNote("两次调解未果")
            assertTrue(detail.requestEscalation(), "${detail.ui.value.error}")
            assertEquals(LadderLevel.VILLAGE, detail.ui.value.detail?.row?.pendingEscalationTo)
            assertFalse(detail.ui.value.canRequest)
            assertNotNull(SyncState(CoreGateways(leader.client)).syncNow())

            Phone("app-ladder-firstsec").use { sec ->
                sec.signIn("firstsec.t2v1")
                val inbox = InboxState(LadderGateways(sec.client))
                inbox.refresh()
                val mine = inbox.ui.value.rows.single { it.disputeId == d.id }
                assertEquals(LadderLevel.GROUP, mine.fromLevel)
                assertEquals(LadderLevel.VILLAGE, mine.toLevel)
                assertEquals(EscalationReasonCode.REPEATED_MEDIATION_FAILED, mine.reason)
                assertEquals(row.caseNumber, mine.caseNumber)
                inbox.setComment(mine.escalationId, "同意，村两委接手")
                assertTrue(inbox.approve(mine.escalationId), "${inbox.ui.value.error}")
                assertTrue(inbox.ui.value.rows.none { it.disputeId == d.id })
                val report = assertNotNull(SyncState(CoreGateways(sec.client)).syncNow())
                assertEquals(0uL, report.rejected + report.conflicts)
            }

            SyncState(CoreGateways(leader.client)).syncNow()
            detail.load()
            val after = assertNotNull(detail.ui.value.detail)
            assertEquals(LadderLevel.VILLAGE, after.row.level)
            assertNull(after.row.pendingEscalationTo)
            assertEquals(listOf("reported", "escalation_requested", "escalation_approved"), after.flow.map { it.kind })
            assertEquals(listOf(1u, 2u, 3u), after.flow.map { it.step })
            // Moved up, the village handles it now; it stays in the leader's
            // "mine" by the core's rule (reported by them), as the core lists it.
            list.setFilter(DisputeFilter.MINE)
            val moved = list.ui.value.rows.single { it.id == d.id }
            assertFalse(moved.handledByMe)
            assertEquals(leader.client.myDisputes().map { it.dispute.id }, list.ui.value.rows.map { it.id })
        }
    }
    test("real client: a mediator's subsidies screen loads through the ladder gateway (none yet: zero totals)") {
        Phone("app-subsidies").use { phone ->
            phone.signIn("mediator.t2v2")
            val s = SubsidiesState(LadderGateways(phone.client))
            s.refresh()
            assertNull(s.ui.value.error, "${s.ui.value.error}")
            assertEquals(s.ui.value.rows.size, s.ui.value.totals.count)
            assertEquals(s.ui.value.rows.filter { it.status == SubsidyStatusCode.PAID }.sumOf { it.amountFen }, s.ui.value.totals.paidFen)
        }
    }
}
