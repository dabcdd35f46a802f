// The visit screens' state: the list with pending flags, the new-visit form
// (household picker, or a cooperative, school, field or other social body
// visited instead; kind, notes, leads, photos taken with the camera) and a
// visit's photos with their upload state.
package org.fengqiao.app.state

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.fengqiao.core.GeoPoint
import org.fengqiao.core.Household
import org.fengqiao.core.NewPhoto
import org.fengqiao.core.NewVisit
import org.fengqiao.core.PhotoStatus
import org.fengqiao.core.PhotoUploadState
import org.fengqiao.core.SocialBody
import org.fengqiao.core.SocialBodyKind
import org.fengqiao.core.Visit
import org.fengqiao.core.Lead
import org.fengqiao.core.VisitKind

/** The record kind of visits, as the bindings name it. */
const val VISIT_KIND = "visit"

/** A visit (走访) in the list. */
data class VisitRow(
    val id: String,
    val householdId: String,
    /** The household's address (its id when the household is not on this phone), or the visited body's name. */
    val householdLabel: String,
    /** The kind of social body visited instead of a household; null for a household visit. */
    val bodyKind: SocialBodyKind? = null,
    val kind: VisitKind,
    val visitedAtMs: Long,
    val leadCount: Int,
    val pending: Boolean,
    val quarantined: Boolean,
    /** The leads found on the visit, each of which the screen offers to report as a dispute. */
    val leads: List<Lead> = emptyList(),
)

data class VisitListUi(
    val loading: Boolean = false,
    val rows: List<VisitRow> = emptyList(),
    val error: UiError? = null,
) {
    /** Waiting to be sent (not refused). */
    val pendingCount: Int get() = rows.count { it.pending && !it.quarantined }
    val quarantinedCount: Int get() = rows.count { it.quarantined }
}

class VisitListState(private val gateway: VisitsGateway, private val limit: UInt = 200u) {
    private val _ui = MutableStateFlow(VisitListUi())
    val ui: StateFlow<VisitListUi> = _ui.asStateFlow()

    suspend fun refresh() {
        _ui.update { it.copy(loading = true) }
        val result = attempt {
            val homes = gateway.households().associateBy { it.id }
            gateway.listVisits(limit).map { item ->
                val v = item.visit
                VisitRow(
                    id = v.id,
                    householdId = v.householdId,
                    householdLabel = v.body?.name ?: homes[v.householdId]?.address ?: v.householdId,
                    bodyKind = v.body?.kind,
                    kind = v.kind,
                    visitedAtMs = v.visitedAtMs,
                    leadCount = v.leads.size,
                    pending = item.pending,
                    quarantined = item.quarantined,
                    leads = v.leads,
                )
            }
        }
        _ui.update { it.copy(loading = false, rows = result.getOrNull() ?: it.rows, error = result.uiError()) }
    }
}

/** A photo taken for the visit, waiting in a file until the visit is saved. */
data class CapturedPhoto(val path: String, val contentType: String = "image/jpeg", val caption: String = "")

data class NewVisitUi(
    val households: List<Household> = emptyList(),
    val householdId: String? = null,
    /** Set when the visit goes to a social body (合作社、学校、田间…) instead of a household. */
    val bodyKind: SocialBodyKind? = null,
    val bodyName: String = "",
    /** The group or village where the body stands; by default the group of the user's households. */
    val bodyUnitId: String? = null,
    val kind: VisitKind = VisitKind.ROUTINE,
    val notes: String = "",
    val leadDraft: String = "",
    val leads: List<String> = emptyList(),
    val photos: List<CapturedPhoto> = emptyList(),
    /** Where the visit happened, when the platform gave a position in time (optional: never waited for). */
    val location: GeoPoint? = null,
    val saving: Boolean = false,
    val error: UiError? = null,
    /** Set once saved (offline is enough): the screen closes or shows its photos. */
    val saved: Visit? = null,
    /** Photos that could not be attached to the saved visit (e.g. `storage_full`). */
    val photoErrors: List<UiError> = emptyList(),
) {
    val household: Household? get() = households.firstOrNull { it.id == householdId }
    /** Whether the visit goes to a social body rather than a household. */
    val toBody: Boolean get() = bodyKind != null
    /** The leads the visit will carry: the list plus a typed, not yet added one. */
    val allLeads: List<String> get() = (leads + leadDraft).map { it.trim() }.filter { it.isNotEmpty() }
}

class NewVisitState(private val gateway: VisitsGateway) {
    private val _ui = MutableStateFlow(NewVisitUi())
    val ui: StateFlow<NewVisitUi> = _ui.asStateFlow()

    /** Loads the households of the user's groups for the picker (offline). */
    suspend fun load() {
        val result = attempt { gateway.households() }
        _ui.update { ui ->
            val homes = result.getOrNull() ?: ui.households
            ui.copy(households = homes, householdId = ui.householdId ?: homes.singleOrNull()?.id, error = result.uiError())
        }
    }

    fun selectHousehold(id: String) = _ui.update { it.copy(householdId = id, bodyKind = null, error = null) }

    /** The visit goes to a social body of this kind, standing in the user's group unless another unit is chosen. */
    fun selectBody(kind: SocialBodyKind) = _ui.update { ui ->
        val unit = ui.bodyUnitId ?: ui.households.map { it.groupId }.distinct().singleOrNull()
        ui.copy(bodyKind = kind, bodyUnitId = unit, error = null)
    }
    fun setBodyName(text: String) = _ui.update { it.copy(bodyName = text, error = null) }
    fun selectBodyUnit(unitId: String) = _ui.update { it.copy(bodyUnitId = unitId, error = null) }
    fun selectKind(kind: VisitKind) = _ui.update { it.copy(kind = kind, error = null) }
    fun setNotes(text: String) = _ui.update { it.copy(notes = text) }
    fun setLeadDraft(text: String) = _ui.update { it.copy(leadDraft = text) }

    /** Adds the typed lead (苗头隐患) to the list. */
    fun addLead() = _ui.update {
        val lead = it.leadDraft.trim()
        if (lead.isEmpty()) it else it.copy(leads = it.leads + lead, leadDraft = "", error = null)
    }

    fun removeLead(index: Int) = _ui.update { it.copy(leads = it.leads.filterIndexed { i, _ -> i != index }) }
    fun addPhoto(photo: CapturedPhoto) = _ui.update { it.copy(photos = it.photos + photo) }
    fun removePhoto(index: Int) = _ui.update { it.copy(photos = it.photos.filterIndexed { i, _ -> i != index }) }

    /**
     * The position the platform reported (GPS when the user permitted it). The
     * screen asks for it without waiting: a visit saved before a fix, or
     * without permission, is saved without a position. The core checks the range.
     */
    fun setLocation(lat: Double, lon: Double) = _ui.update { it.copy(location = GeoPoint(lat, lon)) }
    fun clearLocation() = _ui.update { it.copy(location = null) }

    /** The screen's own checks; the core checks the rest with the server's rules. */
    fun validate(ui: NewVisitUi = _ui.value): UiError? = when {
        !ui.toBody && ui.householdId == null -> UiError.local(LocalCodes.HOUSEHOLD_REQUIRED)
        ui.kind == VisitKind.LEAD_FOUND && ui.allLeads.isEmpty() -> UiError.local(LocalCodes.LEAD_REQUIRED)
        else -> null
    }

    /**
     * Saves the visit offline (durable on return), then attaches each photo.
     * A photo that fails does not undo the visit: it is listed in `photoErrors`.
     */
    suspend fun save(): Visit? {
        val ui = _ui.value
        if (ui.saving || ui.saved != null) return ui.saved
        validate(ui)?.let { e -> _ui.update { it.copy(error = e) }; return null }
        _ui.update { it.copy(saving = true, error = null) }
        val visit = attempt {
            gateway.recordVisit(
                NewVisit(
                    householdId = if (ui.toBody) "" else ui.householdId!!,
                    kind = ui.kind,
                    // the core checks the body's name and unit, with the rule's own message
                    body = ui.bodyKind?.let { SocialBody(it, ui.bodyName.trim(), ui.bodyUnitId ?: "") },
                    notes = ui.notes.trim(),
                    location = ui.location,
                    leads = ui.allLeads,
                ),
            )
        }
        val saved = visit.getOrNull()
        if (saved == null) {
            _ui.update { it.copy(saving = false, error = visit.uiError()) }
            return null
        }
        val photoErrors = ui.photos.mapNotNull { p ->
            attempt {
                gateway.attachPhoto(NewPhoto(VISIT_KIND, saved.id, p.path, p.contentType, p.caption))
            }.uiError()
        }
        _ui.update { it.copy(saving = false, saved = saved, photoErrors = photoErrors) }
        return saved
    }
}

/** A photo's upload state as the screen shows it. */
enum class UploadStage { WAITING, UPLOADING, DONE, FAILED_WILL_RETRY, FAILED, NOT_QUEUED }

data class PhotoRow(
    val sha256: String,
    val caption: String,
    val length: ULong,
    val stage: UploadStage,
    /** 0..1 of the bytes the server has confirmed. */
    val progress: Float,
    val failureCode: String? = null,
    /** The original is still on this phone: [VisitPhotosState.photoBytes] gives it (for the thumbnail). */
    val onPhone: Boolean = false,
    /** The attachment record itself is not yet confirmed by the server. */
    val recordPending: Boolean = false,
) {
    companion object {
        fun stageOf(status: PhotoStatus?): UploadStage = when (val s = status?.state) {
            null -> UploadStage.NOT_QUEUED
            is PhotoUploadState.Pending -> UploadStage.WAITING
            is PhotoUploadState.Uploading -> UploadStage.UPLOADING
            is PhotoUploadState.Done -> UploadStage.DONE
            is PhotoUploadState.Failed -> if (s.permanent) UploadStage.FAILED else UploadStage.FAILED_WILL_RETRY
        }

        fun progressOf(status: PhotoStatus?, length: ULong): Float = when {
            status == null -> 0f
            status.state is PhotoUploadState.Done -> 1f
            length == 0uL -> 0f
            else -> (status.bytesDone.toDouble() / length.toDouble()).toFloat().coerceIn(0f, 1f)
        }
    }
}

data class VisitPhotosUi(
    val loading: Boolean = false,
    val rows: List<PhotoRow> = emptyList(),
    val error: UiError? = null,
) {
    /** Still to be uploaded ("2 photos pending"). */
    val pendingCount: Int get() = rows.count { it.stage == UploadStage.WAITING || it.stage == UploadStage.UPLOADING || it.stage == UploadStage.FAILED_WILL_RETRY }
}

class VisitPhotosState(private val gateway: VisitsGateway, val visitId: String) {
    private val _ui = MutableStateFlow(VisitPhotosUi())
    val ui: StateFlow<VisitPhotosUi> = _ui.asStateFlow()

    suspend fun refresh() {
        _ui.update { it.copy(loading = true) }
        val result = attempt {
            gateway.photosFor(VISIT_KIND, visitId).map { p ->
                val a = p.attachment
                PhotoRow(
                    sha256 = a.sha256,
                    caption = a.caption,
                    length = a.length,
                    stage = PhotoRow.stageOf(p.status),
                    progress = PhotoRow.progressOf(p.status, a.length),
                    failureCode = (p.status?.state as? PhotoUploadState.Failed)?.code,
                    onPhone = p.status?.localFile == true,
                    recordPending = p.pending,
                )
            }
        }
        _ui.update { it.copy(loading = false, rows = result.getOrNull() ?: it.rows, error = result.uiError()) }
    }

    /**
     * A photo's bytes for its thumbnail, decrypted by the core (the file on
     * disk is encrypted); null if its original is no longer on this phone or
     * it cannot be read now (e.g. the phone was locked meanwhile).
     */
    suspend fun photoBytes(sha256: String): ByteArray? = attempt { gateway.photoBytes(sha256) }.getOrNull()

    /** Attaches another photo (taken with the camera into `path`) to this visit. */
    suspend fun attach(photo: CapturedPhoto): Boolean {
        val result = attempt { gateway.attachPhoto(NewPhoto(VISIT_KIND, visitId, photo.path, photo.contentType, photo.caption)) }
        _ui.update { it.copy(error = result.uiError()) }
        if (result.isSuccess) refresh()
        return result.isSuccess
    }
}
