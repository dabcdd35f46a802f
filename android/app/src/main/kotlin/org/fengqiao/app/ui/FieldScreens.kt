// The field work's screens, thin over their state classes (state/ReportStates.kt,
// CaseWorkStates.kt, FieldStates.kt): report a dispute (from scratch or a
// visit's lead, photos from the camera or the gallery with captions, the case
// number and the core's warning when few are left), the case screen (sessions,
// agreement with signature photos, follow-up, closing, a returned file's
// missing papers photographed), household search with standing, a household's
// negative-list record (cadres), the screening, and a legal advisor's
// consultations. Every text from the core is shown as it comes.
package org.fengqiao.app.ui

import android.content.Context
import android.net.Uri
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.core.content.FileProvider
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.fengqiao.app.R
import org.fengqiao.app.state.CaseWorkState
import org.fengqiao.app.state.ChosenPhoto
import org.fengqiao.app.state.ConsultationState
import org.fengqiao.app.state.HouseholdPreventState
import org.fengqiao.app.state.HouseholdSearchState
import org.fengqiao.app.state.PhotoSource
import org.fengqiao.app.state.ReportDisputeState
import org.fengqiao.app.state.ScreeningState
import org.fengqiao.app.sync.SyncScheduler
import org.fengqiao.core.ClosingOutcome
import org.fengqiao.core.ConsultationOutcome
import org.fengqiao.core.Difficulty
import org.fengqiao.core.Grade
import org.fengqiao.core.Satisfaction

/** A new file in cache/camera/ (the FileProvider's path) and its content URI. */
private fun newPhotoFile(context: Context): Pair<File, Uri> {
    val dir = File(context.cacheDir, "camera").apply { mkdirs() }
    val file = File.createTempFile("photo-", ".jpg", dir)
    return file to FileProvider.getUriForFile(context, "${context.packageName}.photos", file)
}

/** Two buttons: take a photo with the camera, or choose one from the gallery (copied to a file the core then encrypts). */
@Composable
private fun PhotoButtons(onPhoto: (ChosenPhoto) -> Unit) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var pending by rememberSaveable { mutableStateOf<String?>(null) }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { ok ->
        val path = pending ?: return@rememberLauncherForActivityResult
        pending = null
        if (ok) onPhoto(ChosenPhoto(path, PhotoSource.CAMERA)) else File(path).delete()
    }
    val gallery = rememberLauncherForActivityResult(ActivityResultContracts.GetContent()) { uri ->
        if (uri != null) scope.launch {
            val file = withContext(Dispatchers.IO) {
                val (f, _) = newPhotoFile(context)
                context.contentResolver.openInputStream(uri)?.use { input -> f.outputStream().use { input.copyTo(it) } }
                f
            }
            onPhoto(ChosenPhoto(file.path, PhotoSource.GALLERY, contentType = context.contentResolver.getType(uri) ?: "image/jpeg"))
        }
    }
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedButton(onClick = { val (f, u) = newPhotoFile(context); pending = f.path; camera.launch(u) }) { Text(stringResource(R.string.photo_camera)) }
        OutlinedButton(onClick = { gallery.launch("image/*") }) { Text(stringResource(R.string.photo_gallery)) }
    }
}

@Composable
fun ReportScreen(state: ReportDisputeState, lead: Pair<String, String>?, onReported: (disputeId: String) -> Unit) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    LaunchedEffect(lead) { state.load(); lead?.let { state.startFromLead(it.first, it.second) } }
    Column(Modifier.fillMaxSize().padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(stringResource(R.string.report_title), style = MaterialTheme.typography.titleLarge)
        ui.stockWarning?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        ErrorBanner(ui.error)
        ui.reported?.let { d ->
            Text(stringResource(R.string.report_case_number, d.caseNumber), style = MaterialTheme.typography.titleMedium)
            ui.photoErrors.forEach { Text(errorText(it), color = MaterialTheme.colorScheme.error) }
            Button(onClick = { onReported(d.id) }) { Text(stringResource(R.string.report_open_case)) }
            return@Column
        }
        Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            ui.kinds.forEach { k -> FilterChip(selected = ui.kind == k.code, onClick = { state.chooseKind(k.code) }, label = { Text(k.labelZh) }) }
        }
        OutlinedTextField(ui.summary, state::setSummary, label = { Text(stringResource(R.string.report_summary)) }, modifier = Modifier.fillMaxWidth())
        ui.parties.forEachIndexed { i, p -> ListItem(headlineContent = { Text(p.name) }, modifier = Modifier.clickable { state.removeParty(i) }) }
        Row {
            OutlinedTextField(ui.partyDraft, state::setPartyDraft, label = { Text(stringResource(R.string.report_party)) }, modifier = Modifier.weight(1f))
            OutlinedButton(onClick = { state.addParty() }) { Text("+") }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            Grade.entries.forEach { g -> FilterChip(selected = ui.grade == g, onClick = { state.chooseGrade(g) }, label = { Text(stringResource(gradeRes(g))) }) }
        }
        OutlinedTextField(ui.cause, state::setCause, label = { Text(stringResource(R.string.report_cause)) }, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(ui.consequences, state::setConsequences, label = { Text(stringResource(R.string.report_consequences)) }, modifier = Modifier.fillMaxWidth())
        Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            Difficulty.entries.forEach { d -> FilterChip(selected = ui.difficulty == d, onClick = { state.chooseDifficulty(d) }, label = { Text(stringResource(difficultyRes(d))) }) }
        }
        ui.photos.forEachIndexed { i, p ->
            OutlinedTextField(p.caption, { state.setCaption(i, it) }, label = { Text(stringResource(R.string.photo_caption)) }, modifier = Modifier.fillMaxWidth())
        }
        PhotoButtons(state::addPhoto)
        Button(enabled = !ui.saving, onClick = { scope.launch { if (state.report() != null) SyncScheduler.syncWhenOnline(context) } }) {
            Text(stringResource(R.string.report_submit))
        }
    }
}

@Composable
fun CaseWorkScreen(state: CaseWorkState) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    var text by remember { mutableStateOf("") }
    var signatures by remember { mutableStateOf(listOf<ChosenPhoto>()) }
    LaunchedEffect(state.disputeId) { state.load() }
    fun after(ok: Boolean) { if (ok) { text = ""; signatures = emptyList(); SyncScheduler.syncWhenOnline(context) } }
    Column(Modifier.fillMaxSize().padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        val d = ui.file?.item?.dispute
        Text(d?.caseNumber.orEmpty(), style = MaterialTheme.typography.titleLarge)
        Text(d?.summary.orEmpty())
        ErrorBanner(ui.error)
        // a returned file: the core's reasons and each missing paper to photograph
        ui.returnedReasons.forEach { Text(it, color = MaterialTheme.colorScheme.error) }
        ui.missing.forEach { item ->
            Text(stringResource(R.string.case_missing, item.label))
            PhotoButtons { p -> scope.launch { after(state.filePaper(item.code, p)) } }
        }
        if (ui.readyForReview) Text(stringResource(R.string.case_ready_for_review))
        ui.file?.sessions?.forEach { s -> ListItem(headlineContent = { Text(s.record) }, supportingContent = { Text(formatDate(s.heldAtMs)) }) }
        ui.file?.agreements?.forEach { a -> ListItem(headlineContent = { Text(a.terms) }, supportingContent = { Text(formatDate(a.signedAtMs)) }) }
        if (ui.canRecord || ui.canFollowUp || ui.canClose) {
            OutlinedTextField(text, { text = it }, label = { Text(stringResource(R.string.case_text)) }, modifier = Modifier.fillMaxWidth())
        }
        if (ui.canRecord) {
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = { scope.launch { after(state.recordSession(text, agreed = false, place = "")) } }) { Text(stringResource(R.string.case_session)) }
                Button(onClick = { scope.launch { after(state.recordSession(text, agreed = true, place = "")) } }) { Text(stringResource(R.string.case_session_agreed)) }
            }
            signatures.forEach { Text(it.path.substringAfterLast('/')) }
            PhotoButtons { signatures = signatures + it }
            Button(onClick = { scope.launch { after(state.recordAgreement(text, 0, "", signatures)) } }) { Text(stringResource(R.string.case_agreement)) }
        }
        if (ui.canFollowUp) {
            Button(onClick = { scope.launch { after(state.recordFollowUp(true, Satisfaction.SATISFIED, text)) } }) { Text(stringResource(R.string.case_follow_up)) }
        }
        if (ui.canClose) {
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = { scope.launch { after(state.close(ClosingOutcome.RESOLVED, text)) } }) { Text(stringResource(R.string.case_close_resolved)) }
                OutlinedButton(onClick = { scope.launch { after(state.close(ClosingOutcome.NOT_RESOLVED, text)) } }) { Text(stringResource(R.string.case_close_unresolved)) }
            }
        }
    }
}

@Composable
fun HouseholdSearchScreen(state: HouseholdSearchState, onOpen: (householdId: String) -> Unit) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    LaunchedEffect(Unit) { state.setQuery("") }
    Column(Modifier.fillMaxSize().padding(16.dp)) {
        OutlinedTextField(ui.query, { q -> scope.launch { state.setQuery(q) } }, label = { Text(stringResource(R.string.search_households)) }, modifier = Modifier.fillMaxWidth())
        ErrorBanner(ui.error)
        LazyColumn {
            items(ui.results, key = { it.household.id }) { m ->
                ListItem(
                    headlineContent = { Text(m.household.headName) },
                    supportingContent = { Text(m.household.address + (m.household.code?.let { " · $it" } ?: "")) },
                    trailingContent = { if (m.suspended) Text(stringResource(R.string.household_suspended), color = MaterialTheme.colorScheme.error) },
                    modifier = Modifier.clickable { onOpen(m.household.id) },
                )
                HorizontalDivider()
            }
        }
    }
}

@Composable
fun HouseholdPreventScreen(state: HouseholdPreventState) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    LaunchedEffect(state.householdId) { state.load() }
    Column(Modifier.fillMaxSize().padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        ErrorBanner(ui.error)
        ui.items.forEach { i -> FilterChip(selected = ui.itemCode == i.code, onClick = { state.chooseItem(i.code) }, label = { Text(i.labelZh) }) }
        ui.correctionDays?.let { Text(stringResource(R.string.prevent_correction_days, it.toInt())) }
        OutlinedTextField(ui.note, state::setNote, label = { Text(stringResource(R.string.case_text)) }, modifier = Modifier.fillMaxWidth())
        Button(enabled = ui.itemCode != null && !ui.busy, onClick = { scope.launch { state.record() } }) { Text(stringResource(R.string.prevent_record)) }
        ui.violations?.forEach { v ->
            ListItem(
                headlineContent = { Text(ui.items.firstOrNull { it.code == v.violation.itemCode }?.labelZh ?: v.violation.itemCode) },
                supportingContent = { Text(formatDate(v.violation.notifiedAtMs) + (v.violation.noSanctionReason?.let { "\n$it" } ?: "")) },
                trailingContent = {
                    if (v.violation.restoration == null) OutlinedButton(onClick = { scope.launch { state.restore(v.violation.id, "") } }) { Text(stringResource(R.string.prevent_restore)) }
                },
            )
        }
    }
}

@Composable
fun ScreeningScreen(state: ScreeningState) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    LaunchedEffect(Unit) { state.load() }
    Column(Modifier.fillMaxSize().padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        ErrorBanner(ui.error)
        val due = ui.due
        if (due == null) { Text(stringResource(R.string.screening_none_due)); return@Column }
        Text(stringResource(R.string.screening_due, due.villageName, due.period, due.dueOn), style = MaterialTheme.typography.titleMedium)
        ui.focusAreas.forEach { a -> FilterChip(selected = a.code in ui.chosenAreas, onClick = { state.toggleArea(a.code) }, label = { Text(a.labelZh) }) }
        var hazard by remember { mutableStateOf("") }
        OutlinedTextField(hazard, { hazard = it }, label = { Text(stringResource(R.string.screening_hazard)) }, modifier = Modifier.fillMaxWidth())
        ui.hazards.forEach { Text("· $it") }
        OutlinedButton(onClick = { state.addHazard(hazard); hazard = "" }) { Text("+") }
        Button(enabled = !ui.busy, onClick = { scope.launch { state.file() } }) { Text(stringResource(R.string.screening_file)) }
    }
}

@Composable
fun ConsultationScreen(state: ConsultationState) {
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    LaunchedEffect(Unit) { state.load() }
    Column(Modifier.fillMaxSize().padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        ErrorBanner(ui.error)
        OutlinedTextField(ui.question, state::setQuestion, label = { Text(stringResource(R.string.consult_question)) }, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(ui.answer, state::setAnswer, label = { Text(stringResource(R.string.consult_answer)) }, modifier = Modifier.fillMaxWidth())
        Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            ConsultationOutcome.entries.forEach { o -> FilterChip(selected = ui.outcome == o, onClick = { state.chooseOutcome(o) }, label = { Text(stringResource(outcomeRes(o))) }) }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            Satisfaction.entries.forEach { s -> FilterChip(selected = ui.satisfaction == s, onClick = { state.chooseSatisfaction(s) }, label = { Text(stringResource(satisfactionRes(s))) }) }
        }
        Button(enabled = !ui.busy, onClick = { scope.launch { state.record() } }) { Text(stringResource(R.string.consult_record)) }
        ui.mine.forEach { c ->
            ListItem(
                headlineContent = { Text(c.consultation.question) },
                supportingContent = { Text(formatDate(c.consultation.atMs) + if (c.pending) " · " + stringResource(R.string.pending_sync) else "") },
            )
        }
    }
}
