//! Whom a visit went to: a household (挨家入户), or another social body of the
//! county's communities — a farmers' cooperative, a school, a field, a rural
//! community (主动深入农村社区、农民合作社、学校等社会主体). A visit names exactly
//! one: its household, or the body with its kind, name and the unit where it
//! stands (which places the visit, as a household's group does).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::rejection::{Rejection, RejectionCode};

/// Longest name of a social body, in characters.
pub const MAX_BODY_NAME_CHARS: usize = 100;

/// The kind of a social body visited. Stable codes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SocialBodyKind {
    /// 农民合作社
    Cooperative,
    /// 学校
    School,
    /// 田间地头: a field, a pasture, a work site.
    Field,
    /// 农村社区
    Community,
    /// Another body (企业、宗教场所…): its name says which.
    Other,
}

impl SocialBodyKind {
    /// The Chinese label the apps show.
    pub fn label_zh(self) -> &'static str {
        match self {
            SocialBodyKind::Cooperative => "农民合作社",
            SocialBodyKind::School => "学校",
            SocialBodyKind::Field => "田间地头",
            SocialBodyKind::Community => "农村社区",
            SocialBodyKind::Other => "其他社会主体",
        }
    }
}

/// A social body other than a household, as a visit names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SocialBody {
    /// What kind of body.
    pub kind: SocialBodyKind,
    /// Its name (e.g. 联丰农民专业合作社, 团结小学), 1 to [`MAX_BODY_NAME_CHARS`] characters.
    pub name: String,
    /// The org unit (group or village) where it stands: the visit is seen by
    /// those who see that unit.
    pub unit_id: Uuid,
}

/// Whom a visit went to, read from a visit's fields ([`crate::records::Visit::target`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitTarget<'a> {
    /// A household of the county's register.
    Household(Uuid),
    /// Another social body.
    Body(&'a SocialBody),
}

/// Checks that a visit names exactly one target: a household (`household_id` not
/// nil, no body) or a body (nil `household_id`, a named body in a unit).
pub fn check_target(household_id: Uuid, body: Option<&SocialBody>) -> Result<(), Rejection> {
    match body {
        None if household_id.is_nil() => Err(Rejection::new(
            RejectionCode::InvalidField,
            "走访对象：请选择走访的农户，或填写走访的合作社、学校等社会主体",
        )),
        None => Ok(()),
        Some(_) if !household_id.is_nil() => Err(Rejection::new(
            RejectionCode::InvalidField,
            "走访对象：一次走访只记一个对象，农户和其他社会主体不能同时填写",
        )),
        Some(b) => {
            crate::model::text::check("走访对象名称", &b.name, true, MAX_BODY_NAME_CHARS)?;
            if b.unit_id.is_nil() {
                return Err(Rejection::new(RejectionCode::InvalidField, "走访对象：请选择该社会主体所在的村或组"));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: &str) -> SocialBody {
        SocialBody { kind: SocialBodyKind::Cooperative, name: name.into(), unit_id: Uuid::from_u128(7) }
    }

    #[test]
    fn a_visit_names_exactly_one_target() {
        let hh = Uuid::from_u128(1);
        assert!(check_target(hh, None).is_ok());
        assert!(check_target(Uuid::nil(), Some(&body("联丰农民专业合作社"))).is_ok());
        for (household, b) in [(Uuid::nil(), None), (hh, Some(body("团结小学")))] {
            let e = check_target(household, b.as_ref()).unwrap_err();
            assert_eq!(e.code, RejectionCode::InvalidField);
            assert!(e.message.starts_with("走访对象"), "{}", e.message);
        }
    }

    #[test]
    fn a_body_has_a_visible_name_within_the_limit_and_a_unit() {
        assert_eq!(check_target(Uuid::nil(), Some(&body(" \u{200B} "))).unwrap_err().code, RejectionCode::InvalidField);
        let long = "田".repeat(MAX_BODY_NAME_CHARS + 1);
        assert_eq!(check_target(Uuid::nil(), Some(&body(&long))).unwrap_err().code, RejectionCode::TextTooLong);
        let nowhere = SocialBody { unit_id: Uuid::nil(), ..body("东头地") };
        assert_eq!(check_target(Uuid::nil(), Some(&nowhere)).unwrap_err().code, RejectionCode::InvalidField);
    }

    #[test]
    fn body_kinds_have_stable_codes() {
        for (k, code) in [
            (SocialBodyKind::Cooperative, "cooperative"),
            (SocialBodyKind::School, "school"),
            (SocialBodyKind::Field, "field"),
            (SocialBodyKind::Community, "community"),
            (SocialBodyKind::Other, "other"),
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), code);
            assert!(!k.label_zh().is_empty());
        }
    }
}
