// Photos: attached to a visit offline, uploaded by sync after the visit, with
// per-photo state and upload progress reaching Kotlin.
package org.fengqiao.jvmtests

import java.io.File
import kotlin.random.Random
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewVisit
import org.fengqiao.core.PhotoUploadState
import org.fengqiao.core.SyncPhase
import org.fengqiao.core.VisitKind

/** A small JPEG-looking file (the core and server treat photos as opaque bytes). */
fun fakeJpeg(dir: String, size: Int): File {
    val bytes = Random(42).nextBytes(size)
    bytes[0] = 0xFF.toByte(); bytes[1] = 0xD8.toByte(); bytes[2] = 0xFF.toByte()
    return File(dir, "camera-${System.nanoTime()}.jpg").also { it.writeBytes(bytes) }
}

val photoTests = Suite("photos").apply {
    test("a photo attached offline shows as pending, then uploads after its visit") {
        Phone("photo").use { phone ->
            phone.signIn("leader.t1v3g1")
            val home = phone.client.households().first()
            phone.link.mode = LinkProxy.Mode.DOWN
            val visit = phone.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.ROUTINE, notes = "拍照留档"))
            val file = fakeJpeg(phone.dataDir, 300_000)
            val att = phone.client.attachPhoto(
                NewPhoto(targetKind = "visit", targetId = visit.id, sourcePath = file.path, contentType = "image/jpeg", caption = "院落"),
            )
            assertEquals(300_000uL, att.length)
            assertEquals("visit", att.targetKind)
            val before = phone.client.photosFor("visit", visit.id).single()
            assertTrue(before.pending)
            assertEquals(PhotoUploadState.Pending, before.status?.state)
            assertEquals(1uL, phone.client.syncStatus().photosPending)

            phone.link.mode = LinkProxy.Mode.UP
            val listener = RecordingListener()
            val report = phone.client.sync(listener)
            assertEquals(2uL, report.pushedApplied, "the visit and the attachment")
            assertEquals(1uL, report.photosUploaded)
            val uploading = listener.events.filter { it.first == SyncPhase.UPLOADING }
            assertTrue(uploading.isNotEmpty(), "upload progress reached Kotlin: ${listener.events}")
            assertEquals(300_000uL, uploading.last().second)

            val state = phone.client.photoStates().single { it.sha256 == att.sha256 }
            assertEquals(PhotoUploadState.Done, state.state)
            assertEquals(att.length, state.bytesDone)
            assertTrue(!state.pending && state.confirmed)
            assertTrue(!phone.client.photosFor("visit", visit.id).single().pending)
            assertEquals(0uL, phone.client.syncStatus().photosPending)
        }
    }
}
