// A household under its village's rules (村规民约): whether the rules were
// reviewed as lawful by the judicial office (the core's own Chinese sentence
// says what that means for sanctions), the representative meeting's vote, the
// household's commitment letter (承诺书), and, for village cadres, its
// violations, each with the core's reason when it carries no sanction. Every
// rule (who may record, what a letter needs, when sanctions apply) is the
// core's; this state only loads, forwards and shows. Plain Kotlin, tested on
// the JVM by tests/kotlin-jvm.sh.
package org.fengqiao.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import org.fengqiao.core.FengqiaoException
import org.fengqiao.core.FieldClient

/** The villagers' representative meeting's vote (村民代表会议表决). */
data class AdoptionRow(
    /** `YYYY-MM-DD`. */
    val meetingDate: String,
    val members: Int,
    val present: Int,
    val votesFor: Int,
    val votesAgainst: Int,
    val abstentions: Int,
)

/** A household's commitment letter (承诺书). */
data class CommitmentRow(
    val signed: Boolean,
    /** `YYYY-MM-DD`, when signed. */
    val signedOn: String?,
    /** Recorded on this phone, not yet confirmed by the server. */
    val pending: Boolean,
)

/** The household under its village's rules. */
data class HouseholdRulesRow(
    val householdId: String,
    val suspended: Boolean,
    val rulesLawful: Boolean,
    /** The core's sentence (Chinese), shown as is. */
    val rulesStatus: String,
    val adoption: AdoptionRow?,
    val commitment: CommitmentRow?,
)

/** A violation as a village cadre sees it. */
data class ViolationRow(
    val id: String,
    val itemCode: String,
    val note: String,
    /** The rules' sanctions apply to it. */
    val sanctioned: Boolean,
    /** Why it carries no sanction (the core's Chinese sentence), if it does not. */
    val noSanctionReason: String?,
    val restored: Boolean,
    val pending: Boolean,
)

/** Reads and writes of a household under its village's rules. */
interface VillageRulesGateway {
    suspend fun householdRules(householdId: String): HouseholdRulesRow
    /** The household's violations; `null` when the user's roles do not see them (a group leader). */
    suspend fun violations(householdId: String): List<ViolationRow>?
    /** Signed with its day (`YYYY-MM-DD`), or not signed with none. */
    suspend fun recordCommitment(householdId: String, signed: Boolean, signedOn: String?)
}

data class HouseholdRulesUi(
    val loading: Boolean = false,
    val rules: HouseholdRulesRow? = null,
    /** `null`: not for this user (only whether services are suspended is). */
    val violations: List<ViolationRow>? = null,
    val saving: Boolean = false,
    val error: UiError? = null,
)

class HouseholdRulesState(private val gateway: VillageRulesGateway, private val householdId: String) {
    private val _ui = MutableStateFlow(HouseholdRulesUi())
    val ui: StateFlow<HouseholdRulesUi> = _ui.asStateFlow()

    suspend fun load() {
        _ui.update { it.copy(loading = true) }
        val rules = attempt { gateway.householdRules(householdId) }
        val violations = attempt { gateway.violations(householdId) }
        _ui.update {
            it.copy(
                loading = false,
                rules = rules.getOrNull() ?: it.rules,
                violations = violations.getOrNull(),
                error = rules.uiError() ?: violations.uiError(),
            )
        }
    }

    /** Records the letter (village cadres), then reloads; a refusal is shown as the core's. */
    suspend fun recordCommitment(signed: Boolean, signedOn: String?) {
        _ui.update { it.copy(saving = true, error = null) }
        val r = attempt { gateway.recordCommitment(householdId, signed, signedOn) }
        _ui.update { it.copy(saving = false, error = r.uiError()) }
        if (r.isSuccess) load()
    }
}

/** [VillageRulesGateway] over the real core, store work on `io`. */
class CoreVillageRulesGateway(
    private val client: FieldClient,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : VillageRulesGateway {
    override suspend fun householdRules(householdId: String): HouseholdRulesRow = withContext(io) {
        val r = client.householdRules(householdId)
        HouseholdRulesRow(
            householdId = r.householdId,
            suspended = r.suspended,
            rulesLawful = r.rulesLawful,
            rulesStatus = r.rulesStatus,
            adoption = r.adoption?.let {
                AdoptionRow(it.meetingDate, it.members.toInt(), it.present.toInt(), it.votesFor.toInt(), it.votesAgainst.toInt(), it.abstentions.toInt())
            },
            commitment = r.commitment?.let { CommitmentRow(it.signed, it.signedOn, r.commitmentPending) },
        )
    }

    override suspend fun violations(householdId: String): List<ViolationRow>? = withContext(io) {
        try {
            client.violationsFor(householdId).map { i ->
                val v = i.violation
                ViolationRow(
                    id = v.id,
                    itemCode = v.itemCode,
                    note = v.note,
                    sanctioned = v.noSanctionReason == null,
                    noSanctionReason = v.noSanctionReason,
                    restored = v.restoration != null,
                    pending = i.pending,
                )
            }
        } catch (e: FengqiaoException.Rejected) {
            if (e.reason == "role_not_allowed") null else throw e
        }
    }

    override suspend fun recordCommitment(householdId: String, signed: Boolean, signedOn: String?) {
        withContext(io) { client.recordCommitment(householdId, signed, signedOn) }
    }
}
