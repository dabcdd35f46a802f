// Photos: attached to a visit offline, uploaded by sync after the visit, with
// per-photo state and upload progress reaching Kotlin.
package org.fengqiao.jvmtests

import java.io.File
import kotlin.random.Random
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewVisit
import org.fengqiao.core.PhotoUploadState
import org.fengqiao.core.SyncPhase
import org.fengqiao.core.VisitKind

/** An 8 × 8 JPEG from the JDK's own encoder. */
private val tinyJpeg: ByteArray by lazy {
    val out = java.io.ByteArrayOutputStream()
    javax.imageio.ImageIO.write(java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB), "jpg", out)
    out.toByteArray()
}

/**
 * A real JPEG of exactly [size] bytes that the core keeps as it is (an 8 × 8
 * picture, no EXIF: nothing to size), its comment segments carrying random
 * bytes from [seed].
 */
fun jpegOfSize(size: Int, seed: Int): ByteArray {
    val base = tinyJpeg
    val room = size - base.size
    val segments = maxOf(1, (room + 65_536) / 65_537)
    require(room >= 4 * segments) { "at least ${base.size + 4} bytes" }
    val payload = Random(seed).nextBytes(room - 4 * segments)
    val out = java.io.ByteArrayOutputStream(size)
    out.write(base, 0, 2)
    var from = 0
    for (i in 0 until segments) {
        val len = payload.size / segments + (if (i < payload.size % segments) 1 else 0)
        out.write(0xFF); out.write(0xFE); out.write((len + 2) shr 8); out.write((len + 2) and 0xFF)
        out.write(payload, from, len)
        from += len
    }
    out.write(base, 2, base.size - 2)
    return out.toByteArray()
}

/** A small JPEG file of [size] bytes, kept as it is by the core. */
fun fakeJpeg(dir: String, size: Int): File =
    File(dir, "camera-${System.nanoTime()}.jpg").also { it.writeBytes(jpegOfSize(size, 42)) }

/** A camera-sized JPEG ([w] × [h], noisy detail) from the JDK's encoder. */
fun cameraJpeg(dir: String, w: Int, h: Int): File {
    val img = java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB)
    val rnd = Random(5)
    for (y in 0 until h) for (x in 0 until w) img.setRGB(x, y, rnd.nextInt(0x1000000))
    return File(dir, "camera-big-${System.nanoTime()}.jpg").also { javax.imageio.ImageIO.write(img, "jpg", it) }
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
    test("a camera photo is sized by the core at attach; a cut one is refused with photo_corrupt") {
        Phone("photo-size").use { phone ->
            phone.signIn("leader.t1v3g1")
            val home = phone.client.households().first()
            val visit = phone.client.recordVisit(NewVisit(householdId = home.id, kind = VisitKind.ROUTINE, notes = "相机原图"))
            val file = cameraJpeg(phone.dataDir, 2400, 1800)
            val att = phone.client.attachPhoto(
                NewPhoto(targetKind = "visit", targetId = visit.id, sourcePath = file.path, contentType = "image/jpeg", caption = ""),
            )
            assertTrue(att.length < file.length().toULong(), "sized: ${att.length} of ${file.length()}")
            val stored = phone.client.photoBytes(att.sha256)!!
            val img = javax.imageio.ImageIO.read(java.io.ByteArrayInputStream(stored))
            assertEquals(1600 to 1200, img.width to img.height)

            val cut = File(phone.dataDir, "cut.jpg").also { it.writeBytes(file.readBytes().copyOf(file.length().toInt() / 2)) }
            val e = assertFailsWith<FengqiaoException.InvalidInput> {
                phone.client.attachPhoto(
                    NewPhoto(targetKind = "visit", targetId = visit.id, sourcePath = cut.path, contentType = "image/jpeg", caption = ""),
                )
            }
            assertEquals("photo_corrupt", e.reason)
            assertEquals(1, phone.client.photosFor("visit", visit.id).size, "nothing attached")
        }
    }
}
