// Entry point of the JVM suite (run by tests/kotlin-jvm.sh). Each feature of the
// bindings has its own suite file; a feature that lands adds its file and its
// suite to this list.
package org.fengqiao.jvmtests

import kotlin.system.exitProcess

fun main() {
    val suites = listOf(
        sessionTests, visitSyncTests, photoTests, quarantineTests, errorTests, appStateTests, ladderTests,
        subsidyPreventTests, phoneSafetyTests, lockStateTests, villageRulesTests, visitTargetTests, officeChoiceTests,
        messagesTests, tlsTests, regradeTests, notificationTests, approvalInboxTests, reviewTests,
        journeyLeaderTests, journeyMediatorTests, journeyCadreTests, fieldStateTests,
    )
    // FENGQIAO_JVM_ONLY=journeys runs only the suites whose name holds it (a developer's quick run)
    val only = System.getenv("FENGQIAO_JVM_ONLY")?.takeIf { it.isNotBlank() }
    val failed = runSuites(if (only == null) suites else suites.filter { it.feature.contains(only) })
    exitProcess(if (failed == 0) 0 else 1)
}
