// Visits (走访): the list with pending flags, the new-visit form with the
// camera, and a visit's photos with their upload state.
package org.fengqiao.app.ui

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.net.Uri
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Image
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AssistChip
import androidx.compose.material3.Button
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.ExposedDropdownMenuBox
import androidx.compose.material3.ExposedDropdownMenuDefaults
import androidx.compose.material3.ExtendedFloatingActionButton
import androidx.compose.material3.FilterChip
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.MenuAnchorType
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.produceState
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import androidx.core.content.FileProvider
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.fengqiao.app.R
import org.fengqiao.app.state.CapturedPhoto
import org.fengqiao.app.state.NewVisitState
import org.fengqiao.app.state.PhotoRow
import org.fengqiao.app.state.VisitListState
import org.fengqiao.app.state.UploadStage
import org.fengqiao.app.state.VisitPhotosState
import org.fengqiao.app.sync.SyncScheduler
import org.fengqiao.core.VisitKind

@Composable
fun VisitListScreen(
    state: VisitListState,
    onNew: () -> Unit,
    onOpen: (String) -> Unit,
    onReportLead: (visitId: String, leadId: String) -> Unit = { _, _ -> },
) {
    val ui by state.ui.collectAsStateWithLifecycle()
    LaunchedEffect(Unit) { state.refresh() }
    Scaffold(
        floatingActionButton = {
            ExtendedFloatingActionButton(onClick = onNew) { Text(stringResource(R.string.visit_new)) }
        },
    ) { padding ->
        Column(Modifier.padding(padding).fillMaxSize()) {
            ErrorBanner(ui.error)
            if (ui.pendingCount > 0) {
                Text(stringResource(R.string.visits_pending_count, ui.pendingCount), Modifier.padding(16.dp, 8.dp))
            }
            if (ui.rows.isEmpty() && !ui.loading) Text(stringResource(R.string.visits_empty), Modifier.padding(16.dp))
            LazyColumn {
                items(ui.rows, key = { it.id }) { row ->
                    ListItem(
                        headlineContent = { Text(row.householdLabel) },
                        supportingContent = {
                            val kind = stringResource(visitKindRes(row.kind))
                            val leads = if (row.leadCount > 0) " · " + stringResource(R.string.visit_leads, row.leadCount) else ""
                            Text("${formatTime(row.visitedAtMs)} · $kind$leads")
                        },
                        trailingContent = {
                            when {
                                row.quarantined -> Text(stringResource(R.string.visit_quarantined), color = MaterialTheme.colorScheme.error)
                                row.pending -> Text(stringResource(R.string.visit_pending))
                            }
                        },
                        modifier = Modifier.clickable { onOpen(row.id) },
                    )
                    // each lead can be reported as a dispute, the form filled from it by the core
                    row.leads.forEach { lead ->
                        Row(Modifier.padding(start = 16.dp), verticalAlignment = Alignment.CenterVertically) {
                            Text(lead.summary, Modifier.weight(1f), style = MaterialTheme.typography.bodySmall)
                            TextButton(onClick = { onReportLead(row.id, lead.id) }) { Text(stringResource(R.string.visit_report_lead)) }
                        }
                    }
                }
            }
        }
    }
}

/** A new file in cache/camera/ (the FileProvider's path) and its content URI for the camera app. */
private fun newCaptureFile(context: Context): Pair<File, Uri> {
    val dir = File(context.cacheDir, "camera").apply { mkdirs() }
    val file = File.createTempFile("visit-", ".jpg", dir)
    return file to FileProvider.getUriForFile(context, "${context.packageName}.photos", file)
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun NewVisitScreen(state: NewVisitState, onSaved: (visitId: String) -> Unit) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    LaunchedEffect(Unit) { state.load() }

    // Camera: TakePicture writes full-size JPEG into our file; the core copies it on save.
    var pendingCapture by rememberSaveable { mutableStateOf<String?>(null) }
    val takePicture = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { ok ->
        val path = pendingCapture
        pendingCapture = null
        if (path != null) {
            if (ok) state.addPhoto(CapturedPhoto(path)) else File(path).delete()
        }
    }
    fun capture() {
        val (file, uri) = newCaptureFile(context)
        pendingCapture = file.path
        takePicture.launch(uri)
    }
    val askCamera = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) capture()
    }

    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        // Household picker (户).
        var open by remember { mutableStateOf(false) }
        ExposedDropdownMenuBox(expanded = open, onExpandedChange = { open = it }) {
            OutlinedTextField(
                value = ui.household?.let { "${it.address} ${it.headName}" } ?: "",
                onValueChange = {},
                readOnly = true,
                label = { Text(stringResource(R.string.visit_household)) },
                placeholder = { Text(stringResource(R.string.visit_choose_household)) },
                trailingIcon = { ExposedDropdownMenuDefaults.TrailingIcon(open) },
                modifier = Modifier.menuAnchor(MenuAnchorType.PrimaryNotEditable).fillMaxWidth(),
            )
            ExposedDropdownMenu(expanded = open, onDismissRequest = { open = false }) {
                ui.households.forEach { h ->
                    DropdownMenuItem(text = { Text("${h.address} ${h.headName}") }, onClick = { state.selectHousehold(h.id); open = false })
                }
            }
        }

        Text(stringResource(R.string.visit_kind), style = MaterialTheme.typography.labelLarge)
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            VisitKind.entries.forEach { k ->
                FilterChip(selected = ui.kind == k, onClick = { state.selectKind(k) }, label = { Text(stringResource(visitKindRes(k))) })
            }
        }

        OutlinedTextField(
            value = ui.notes,
            onValueChange = state::setNotes,
            label = { Text(stringResource(R.string.visit_notes)) },
            minLines = 3,
            modifier = Modifier.fillMaxWidth(),
        )

        // Leads (苗头隐患).
        ui.leads.forEachIndexed { i, lead ->
            AssistChip(onClick = { state.removeLead(i) }, label = { Text("$lead  ✕") })
        }
        Row(verticalAlignment = Alignment.CenterVertically) {
            OutlinedTextField(
                value = ui.leadDraft,
                onValueChange = state::setLeadDraft,
                label = { Text(stringResource(R.string.visit_lead)) },
                modifier = Modifier.weight(1f),
            )
            TextButton(onClick = state::addLead) { Text(stringResource(R.string.visit_add_lead)) }
        }

        Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
            OutlinedButton(onClick = {
                val granted = ContextCompat.checkSelfPermission(context, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED
                if (granted) capture() else askCamera.launch(Manifest.permission.CAMERA)
            }) { Text(stringResource(R.string.visit_take_photo)) }
            if (ui.photos.isNotEmpty()) Text(stringResource(R.string.visit_photos_taken, ui.photos.size))
        }

        ErrorBanner(ui.error)
        if (ui.photoErrors.isNotEmpty()) {
            Text(stringResource(R.string.visit_photos_not_attached, ui.photoErrors.size), color = MaterialTheme.colorScheme.error)
        }
        Button(
            enabled = !ui.saving && ui.saved == null,
            onClick = {
                scope.launch {
                    val saved = state.save() ?: return@launch
                    // The core copied the photos into its own folder; drop the camera's files.
                    ui.photos.forEach { File(it.path).delete() }
                    SyncScheduler.syncWhenOnline(context)
                    onSaved(saved.id)
                }
            },
            modifier = Modifier.fillMaxWidth(),
        ) { Text(stringResource(R.string.save)) }
    }
}

@Composable
fun VisitPhotosScreen(state: VisitPhotosState) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    LaunchedEffect(state.visitId) { state.refresh() }
    var pendingCapture by rememberSaveable { mutableStateOf<String?>(null) }
    val takePicture = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { ok ->
        val path = pendingCapture ?: return@rememberLauncherForActivityResult
        pendingCapture = null
        scope.launch {
            if (ok && state.attach(CapturedPhoto(path))) SyncScheduler.syncWhenOnline(context)
            File(path).delete()
        }
    }
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Row(verticalAlignment = Alignment.CenterVertically) {
            Text(stringResource(R.string.photos_title), style = MaterialTheme.typography.titleLarge, modifier = Modifier.weight(1f))
            OutlinedButton(onClick = {
                val (file, uri) = newCaptureFile(context)
                pendingCapture = file.path
                takePicture.launch(uri)
            }) { Text(stringResource(R.string.visit_take_photo)) }
        }
        if (ui.pendingCount > 0) Text(stringResource(R.string.photos_pending, ui.pendingCount))
        ErrorBanner(ui.error)
        if (ui.rows.isEmpty() && !ui.loading) Text(stringResource(R.string.photos_empty))
        LazyColumn(verticalArrangement = Arrangement.spacedBy(8.dp)) {
            items(ui.rows, key = { it.sha256 }) { p ->
                Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                    Thumbnail(p, state)
                    Column(Modifier.weight(1f)) {
                        if (p.caption.isNotBlank()) Text(p.caption)
                        Text(uploadStageText(p.stage, p.progress), style = MaterialTheme.typography.bodySmall)
                        if (p.stage == UploadStage.UPLOADING) {
                            LinearProgressIndicator(progress = { p.progress }, modifier = Modifier.fillMaxWidth())
                        }
                        p.failureCode?.let { Text(it, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall) }
                        if (p.recordPending) Text(stringResource(R.string.photo_record_pending), style = MaterialTheme.typography.bodySmall)
                    }
                }
            }
        }
    }
}

/**
 * A small thumbnail of a photo still on this phone: the core decrypts its
 * bytes (the file on disk is encrypted), decoded off the main thread at
 * reduced size (never the whole image in memory as a bitmap).
 */
@Composable
private fun Thumbnail(row: PhotoRow, state: VisitPhotosState) {
    val bitmap by produceState<Bitmap?>(initialValue = null, row.sha256, row.onPhone) {
        value = if (!row.onPhone) {
            null
        } else {
            withContext(Dispatchers.Default) {
                state.photoBytes(row.sha256)?.let { bytes ->
                    val opts = BitmapFactory.Options().apply { inSampleSize = 8 }
                    runCatching { BitmapFactory.decodeByteArray(bytes, 0, bytes.size, opts) }.getOrNull()
                }
            }
        }
    }
    val shown = bitmap
    if (shown != null) {
        Image(shown.asImageBitmap(), contentDescription = null, modifier = Modifier.size(72.dp))
    } else {
        Spacer(Modifier.size(72.dp))
    }
}
