//! The invariants of the policy's pay rules (who is paid, how a case's subsidy
//! is split across levels, what a reviewed consultation pays), checked with the
//! rest of the policy when it is loaded ([`crate::policy::policy_check`]):
//!
//! - `subsidy.paid_roles`: no role twice, and each a role that mediates at some
//!   level ([`crate::model::permissions::mediates_at`]); an empty list is allowed
//!   (a county paying no case subsidies).
//! - `subsidy.resolving_level_percent`: 0 to 100.
//! - `subsidy.consultation_rates`: exactly one row for every outcome and
//!   satisfaction, each 0 to 100 %, at least one paying more than 0 % (else no
//!   consultation could ever be paid).

use crate::model::disputes::Satisfaction;
use crate::model::ladder::Level;
use crate::model::permissions::mediates_at;
use crate::model::subsidy::ConsultationOutcome;
use crate::policy::{Policy, PolicyError};

fn refuse(key: &str, message: String) -> Result<(), PolicyError> {
    Err(PolicyError::Key { key: key.into(), message })
}

/// Checks the pay rules; the first broken one names its key.
pub(crate) fn check(p: &Policy) -> Result<(), PolicyError> {
    let s = &p.subsidy;
    for (i, r) in s.paid_roles.iter().enumerate() {
        if s.paid_roles[..i].contains(r) {
            return refuse("subsidy.paid_roles", format!("角色 {} 重复", r.code()));
        }
        if !Level::ALL.iter().any(|l| mediates_at(*l).contains(r)) {
            return refuse(
                "subsidy.paid_roles",
                format!("角色 {}（{}）在任何一级都不主持调解，不能领取案件补贴", r.code(), r.label_zh()),
            );
        }
    }
    if s.resolving_level_percent > 100 {
        return refuse(
            "subsidy.resolving_level_percent",
            format!("化解层级分得的比例须在 0 到 100 之间，现为 {}", s.resolving_level_percent),
        );
    }
    const OUTCOMES: [ConsultationOutcome; 3] =
        [ConsultationOutcome::Solved, ConsultationOutcome::Referred, ConsultationOutcome::NotSolved];
    const SATISFACTION: [Satisfaction; 3] =
        [Satisfaction::Satisfied, Satisfaction::Neutral, Satisfaction::Dissatisfied];
    let key = "subsidy.consultation_rates";
    for r in &s.consultation_rates {
        if r.percent > 100 {
            return refuse(key, format!("法律咨询补贴比例须在 0 到 100 之间，现为 {}", r.percent));
        }
    }
    for o in OUTCOMES {
        for sat in SATISFACTION {
            let n = s.consultation_rates.iter().filter(|r| r.outcome == o && r.satisfaction == sat).count();
            if n != 1 {
                return refuse(
                    key,
                    format!(
                        "处置结果 {o:?} 与满意度 {sat:?} 的组合须恰有一行，现有 {n} 行（评查后的每种结果都要有价）"
                    ),
                );
            }
        }
    }
    if !s.consultation_rates.iter().any(|r| r.percent > 0) {
        return refuse(key, "每一行都是 0%：任何法律咨询都拿不到补贴".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::policy::{Policy, PolicyError};

    fn key_of(toml: &str) -> Option<String> {
        match Policy::from_toml(toml) {
            Err(PolicyError::Key { key, message }) => {
                assert!(!message.is_empty());
                Some(key)
            }
            Err(e) => panic!("{toml}: {e}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn pay_rules_that_break_a_promise_are_refused_naming_their_key() {
        let rates = |rows: &str| format!("[subsidy]\nconsultation_rates = [{rows}]\n");
        for (toml, key) in [
            ("[subsidy]\npaid_roles = [\"mediator\", \"mediator\"]\n".to_string(), "subsidy.paid_roles"),
            ("[subsidy]\npaid_roles = [\"county_admin\"]\n".into(), "subsidy.paid_roles"),
            ("[subsidy]\nresolving_level_percent = 101\n".into(), "subsidy.resolving_level_percent"),
            (rates(""), "subsidy.consultation_rates"),
            (
                rates("{ outcome = \"solved\", satisfaction = \"satisfied\", percent = 100 }"),
                "subsidy.consultation_rates",
            ),
            (
                rates(
                    &[
                        "solved",
                        "solved",
                        "solved",
                        "referred",
                        "referred",
                        "referred",
                        "not_solved",
                        "not_solved",
                        "not_solved",
                    ]
                    .iter()
                    .zip(["satisfied", "neutral", "dissatisfied"].iter().cycle())
                    .map(|(o, s)| format!("{{ outcome = \"{o}\", satisfaction = \"{s}\", percent = 0 }}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                ),
                "subsidy.consultation_rates",
            ),
            (
                rates(
                    &["solved", "referred", "not_solved"]
                        .iter()
                        .flat_map(|o| ["satisfied", "neutral", "dissatisfied"].map(|s| (o, s)))
                        .map(|(o, s)| format!("{{ outcome = \"{o}\", satisfaction = \"{s}\", percent = 101 }}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                "subsidy.consultation_rates",
            ),
        ] {
            assert_eq!(key_of(&toml).as_deref(), Some(key), "{toml}");
        }
    }

    #[test]
    fn the_seed_pay_rules_and_county_choices_pass() {
        let p = Policy::default();
        assert_eq!(p.subsidy.resolving_level_percent, 60);
        assert!(!p.subsidy.paid_roles.contains(&crate::model::org::Role::JudicialOffice), "civil servants");
        assert!(p.subsidy.paid_roles.contains(&crate::model::org::Role::LegalAdvisor));
        assert_eq!(p.subsidy.consultation_rates.len(), 9);
        for ok in [
            "[subsidy]\npaid_roles = []\n",
            "[subsidy]\npaid_roles = [\"group_leader\", \"judicial_office\"]\n",
            "[subsidy]\nresolving_level_percent = 0\n",
            "[subsidy]\nresolving_level_percent = 100\n",
        ] {
            assert_eq!(key_of(ok), None, "{ok}");
        }
        assert_eq!(Policy::from_toml(&p.to_toml()).unwrap(), p);
    }
}
