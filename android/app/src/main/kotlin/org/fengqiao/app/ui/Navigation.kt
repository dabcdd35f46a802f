// Navigation: login first (unless a session is cached), then six tabs —
// visits, disputes, households, approvals, subsidies, sync — with the visit,
// photo, dispute, case, report, household, screening and consultation screens
// pushed on top.
package org.fengqiao.app.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.OutlinedButton
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Gavel
import androidx.compose.material.icons.filled.Home
import androidx.compose.material.icons.filled.Inbox
import androidx.compose.material.icons.filled.Payments
import androidx.compose.material.icons.filled.People
import androidx.compose.material.icons.filled.Sync
import androidx.compose.material3.Badge
import androidx.compose.material3.BadgedBox
import androidx.compose.material3.Icon
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.compose.ui.res.stringResource
import androidx.navigation.NavGraph.Companion.findStartDestination
import androidx.navigation.NavHostController
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.currentBackStackEntryAsState
import androidx.navigation.compose.rememberNavController
import org.fengqiao.app.AppContainer
import org.fengqiao.app.R
import org.fengqiao.app.state.CaseWorkState
import org.fengqiao.app.state.ConsultationState
import org.fengqiao.app.state.DisputeDetailState
import org.fengqiao.app.state.HouseholdPreventState
import org.fengqiao.app.state.HouseholdSearchState
import org.fengqiao.app.state.ReportDisputeState
import org.fengqiao.app.state.ScreeningState
import org.fengqiao.app.state.DisputeListState
import org.fengqiao.app.state.CoreApprovals
import org.fengqiao.app.state.CoreNotifications
import org.fengqiao.app.state.InboxState
import org.fengqiao.app.state.NotificationsState
import org.fengqiao.app.state.ReviewState
import org.fengqiao.app.state.CoreReviews
import org.fengqiao.app.state.LoginState
import org.fengqiao.app.state.NewVisitState
import org.fengqiao.app.state.SubsidiesState
import org.fengqiao.app.state.SyncState
import org.fengqiao.app.state.VisitListState
import org.fengqiao.app.state.VisitPhotosState

private object Routes {
    const val LOGIN = "login"
    const val VISITS = "visits"
    const val NEW_VISIT = "visits/new"
    const val VISIT_PHOTOS = "visits/{id}/photos"
    const val DISPUTES = "disputes"
    const val DISPUTE = "disputes/{id}"
    const val INBOX = "inbox"
    const val SUBSIDIES = "subsidies"
    const val SYNC = "sync"
    const val REPORT = "report"
    const val REPORT_FROM_LEAD = "report/{visit}/{lead}"
    const val CASE = "disputes/{id}/work"
    const val HOUSEHOLDS = "households"
    const val HOUSEHOLD = "households/{id}"
    const val SCREENING = "screening"
    const val CONSULTATIONS = "consultations"
    const val REVIEW = "review"
    fun photos(id: String) = "visits/$id/photos"
    fun reportFromLead(visit: String, lead: String) = "report/$visit/$lead"
    fun dispute(id: String) = "disputes/$id"
    fun case(id: String) = "disputes/$id/work"
    fun household(id: String) = "households/$id"
}

private data class Tab(val route: String, val label: Int, val icon: ImageVector)

private val tabs = listOf(
    Tab(Routes.VISITS, R.string.nav_visits, Icons.Filled.Home),
    Tab(Routes.DISPUTES, R.string.nav_disputes, Icons.Filled.Gavel),
    Tab(Routes.HOUSEHOLDS, R.string.nav_households, Icons.Filled.People),
    Tab(Routes.INBOX, R.string.nav_inbox, Icons.Filled.Inbox),
    Tab(Routes.SUBSIDIES, R.string.nav_subsidies, Icons.Filled.Payments),
    Tab(Routes.SYNC, R.string.nav_sync, Icons.Filled.Sync),
)

@Composable
fun FengqiaoNavigation(container: AppContainer, signedIn: Boolean) {
    val nav = rememberNavController()
    val entry by nav.currentBackStackEntryAsState()
    val route = entry?.destination?.route
    // the badges: the core's counts, reloaded whenever the user changes screen
    val notices = rememberScreenState { NotificationsState(CoreNotifications(container.client)) }
    val noticesUi by notices.ui.collectAsState()
    LaunchedEffect(route) { if (route != Routes.LOGIN) notices.load() }
    val counts = noticesUi.counts
    fun badgeOf(tabRoute: String): UInt = when (tabRoute) {
        Routes.DISPUTES -> counts?.myDisputes ?: 0u
        Routes.INBOX -> counts?.inbox ?: 0u
        Routes.SUBSIDIES -> counts?.subsidies ?: 0u
        Routes.SYNC -> noticesUi.indicator?.quarantined ?: 0u
        else -> 0u
    }
    Scaffold(
        bottomBar = {
            if (route != Routes.LOGIN) {
                NavigationBar {
                    tabs.forEach { t ->
                        NavigationBarItem(
                            selected = route == t.route,
                            onClick = { nav.openTab(t.route) },
                            icon = {
                                val n = badgeOf(t.route)
                                if (n > 0u) {
                                    BadgedBox(badge = { Badge { Text(n.toString()) } }) { Icon(t.icon, contentDescription = null) }
                                } else {
                                    Icon(t.icon, contentDescription = null)
                                }
                            },
                            label = { Text(stringResource(t.label)) },
                        )
                    }
                }
            }
        },
    ) { padding ->
        NavHost(nav, startDestination = if (signedIn) Routes.VISITS else Routes.LOGIN, modifier = Modifier.padding(padding)) {
            composable(Routes.LOGIN) {
                LoginScreen(rememberScreenState { LoginState(container.core) }) {
                    nav.navigate(Routes.VISITS) { popUpTo(Routes.LOGIN) { inclusive = true } }
                }
            }
            composable(Routes.VISITS) {
                VisitListScreen(
                    rememberScreenState { VisitListState(container.core) },
                    onNew = { nav.navigate(Routes.NEW_VISIT) },
                    onOpen = { nav.navigate(Routes.photos(it)) },
                    onReportLead = { visit, lead -> nav.navigate(Routes.reportFromLead(visit, lead)) },
                )
            }
            composable(Routes.NEW_VISIT) {
                NewVisitScreen(rememberScreenState { NewVisitState(container.core) }) { id ->
                    nav.navigate(Routes.photos(id)) { popUpTo(Routes.VISITS) }
                }
            }
            composable(Routes.VISIT_PHOTOS) { e ->
                val id = e.arguments?.getString("id").orEmpty()
                VisitPhotosScreen(rememberScreenState(id) { VisitPhotosState(container.core, id) })
            }
            composable(Routes.DISPUTES) {
                DisputeListScreen(rememberScreenState { DisputeListState(container.ladder) }) { nav.navigate(Routes.dispute(it)) }
            }
            composable(Routes.DISPUTE) { e ->
                val id = e.arguments?.getString("id").orEmpty()
                Column {
                    OutlinedButton(onClick = { nav.navigate(Routes.case(id)) }) { Text(stringResource(R.string.case_text)) }
                    DisputeDetailScreen(rememberScreenState(id) { DisputeDetailState(container.ladder, id) })
                }
            }
            composable(Routes.CASE) { e ->
                val id = e.arguments?.getString("id").orEmpty()
                CaseWorkScreen(rememberScreenState(id) { CaseWorkState(container.field, id) })
            }
            composable(Routes.REPORT) {
                ReportScreen(rememberScreenState { ReportDisputeState(container.field) }, null) { nav.navigate(Routes.case(it)) }
            }
            composable(Routes.REPORT_FROM_LEAD) { e ->
                val visit = e.arguments?.getString("visit").orEmpty()
                val lead = e.arguments?.getString("lead").orEmpty()
                ReportScreen(rememberScreenState("$visit/$lead") { ReportDisputeState(container.field) }, visit to lead) { nav.navigate(Routes.case(it)) }
            }
            composable(Routes.HOUSEHOLDS) {
                Column {
                    Row {
                        OutlinedButton(onClick = { nav.navigate(Routes.REPORT) }) { Text(stringResource(R.string.nav_report)) }
                        OutlinedButton(onClick = { nav.navigate(Routes.SCREENING) }) { Text(stringResource(R.string.nav_screening)) }
                        OutlinedButton(onClick = { nav.navigate(Routes.CONSULTATIONS) }) { Text(stringResource(R.string.nav_consultations)) }
                    }
                    HouseholdSearchScreen(rememberScreenState { HouseholdSearchState(container.field) }) { nav.navigate(Routes.household(it)) }
                }
            }
            composable(Routes.HOUSEHOLD) { e ->
                val id = e.arguments?.getString("id").orEmpty()
                HouseholdPreventScreen(rememberScreenState(id) { HouseholdPreventState(container.field, id) })
            }
            composable(Routes.SCREENING) { ScreeningScreen(rememberScreenState { ScreeningState(container.field) }) }
            composable(Routes.CONSULTATIONS) { ConsultationScreen(rememberScreenState { ConsultationState(container.field) }) }
            composable(Routes.INBOX) {
                Column {
                    OutlinedButton(onClick = { nav.navigate(Routes.REVIEW) }) { Text(stringResource(R.string.review_title)) }
                    InboxScreen(rememberScreenState { InboxState(container.ladder, CoreApprovals(container.client)) }) { nav.navigate(Routes.dispute(it)) }
                }
            }
            composable(Routes.REVIEW) { ReviewScreen(rememberScreenState { ReviewState(CoreReviews(container.client)) }) }
            composable(Routes.SUBSIDIES) {
                SubsidiesScreen(rememberScreenState { SubsidiesState(container.ladder) }) { nav.navigate(Routes.case(it)) }
            }
            composable(Routes.SYNC) {
                SyncScreen(rememberScreenState { SyncState(container.core) }, container.lock) {
                    nav.navigate(Routes.LOGIN) { popUpTo(0) }
                }
            }
        }
    }
}

/** Switches tab keeping one copy of each on the back stack. */
private fun NavHostController.openTab(route: String) = navigate(route) {
    popUpTo(graph.findStartDestination().id) { saveState = true }
    launchSingleTop = true
    restoreState = true
}
