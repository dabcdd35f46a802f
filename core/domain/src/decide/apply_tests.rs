//! Tests of `apply.rs`.

use super::*;
use crate::model::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use crate::model::records::{Household, Visit, VisitKind};
use chrono::Utc;
use std::collections::HashMap;

struct MapView(HashMap<(EntityKind, Uuid), Record>);
impl StateView for MapView {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        Ok(self.0.get(&(kind, id)).cloned())
    }
    fn case_block_owner(&self, _: i32, _: u32) -> Result<Option<Uuid>, ViewError> {
        Ok(None)
    }
    fn case_number_holder(&self, _: &str) -> Result<Option<Uuid>, ViewError> {
        Ok(None)
    }
    fn lead_visit(&self, _: Uuid) -> Result<Option<Uuid>, ViewError> {
        Ok(None)
    }
    fn person(&self, _: Uuid) -> Result<crate::decide::view::PersonLookup, ViewError> {
        Ok(crate::decide::view::PersonLookup::CannotTell)
    }
}

fn decide(
    env: &OpEnvelope,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
) -> Result<Result<Vec<Effect>, Rejection>, ViewError> {
    let v = super::decide(env, actor, policy, view, Utc::now())?;
    crate::decide::view::assert_readable(&v);
    Ok(match v {
        Verdict::Apply(e) => Ok(e),
        Verdict::Reject(r) => Err(r),
        Verdict::Conflict { message, .. } => Err(Rejection::new(RejectionCode::InvalidState, message)),
    })
}

struct World {
    view: MapView,
    groups: Vec<Uuid>,
    households: Vec<Uuid>,
}

/// county > town > 2 villages > one group each > one household each
fn world() -> World {
    let mut m = HashMap::new();
    let mut put = |r: Record| {
        m.insert((r.kind(), r.id()), r);
    };
    let unit = |id: u128, level, parent: Option<u128>| {
        Record::Unit(OrgUnit {
            id: Uuid::from_u128(id),
            code: format!("U{id}"),
            name: format!("u{id}"),
            level,
            parent: parent.map(Uuid::from_u128),
            kind: None,
            offices: vec![],
        })
    };
    put(unit(1, UnitLevel::County, None));
    put(unit(2, UnitLevel::Town, Some(1)));
    put(unit(3, UnitLevel::Village, Some(2)));
    put(unit(4, UnitLevel::Village, Some(2)));
    put(unit(5, UnitLevel::Group, Some(3)));
    put(unit(6, UnitLevel::Group, Some(4)));
    for (h, g) in [(50u128, 5u128), (60, 6)] {
        put(Record::Household(Household {
            id: Uuid::from_u128(h),
            group_id: Uuid::from_u128(g),
            head_name: "张三".into(),
            address: "1号".into(),
            phone: None,
            code: None,
            id_number: None,
        }));
    }
    World {
        view: MapView(m),
        groups: vec![Uuid::from_u128(5), Uuid::from_u128(6)],
        households: vec![Uuid::from_u128(50), Uuid::from_u128(60)],
    }
}

fn op(author: Uuid, household: Uuid) -> OpEnvelope {
    OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author,
        created_at: Utc::now(),
        op: Op::RecordVisit(Visit {
            id: Uuid::now_v7(),
            household_id: household,
            visitor_id: Uuid::nil(),
            visited_at: Utc::now(),
            kind: VisitKind::Routine,
            notes: "ok".into(),
            location: None,
            leads: vec![],
            group_id: None,
            body: None,
        }),
        seen: None,
    }
}

fn leader(group: Uuid) -> Actor {
    Actor { user_id: Uuid::from_u128(100), grants: vec![RoleGrant { role: Role::GroupLeader, unit_id: group }] }
}

#[test]
fn leader_visit_in_own_group_applies_with_full_scope() {
    let w = world();
    let a = leader(w.groups[0]);
    let effects = decide(&op(a.user_id, w.households[0]), &a, &Policy::default(), &w.view).unwrap().unwrap();
    let Effect::Put { record: Record::Visit(v), scope } = &effects[0] else { panic!("{effects:?}") };
    assert_eq!(scope, &vec![Uuid::from_u128(5), Uuid::from_u128(3), Uuid::from_u128(2), Uuid::from_u128(1)]);
    assert_eq!(v.visitor_id, a.user_id);
    assert_eq!(v.group_id, Some(w.groups[0]));
}

#[test]
fn other_village_and_unknown_household_are_indistinguishable() {
    let w = world();
    let a = leader(w.groups[0]);
    let r1 = decide(&op(a.user_id, w.households[1]), &a, &Policy::default(), &w.view).unwrap().unwrap_err();
    let r2 = decide(&op(a.user_id, Uuid::from_u128(999)), &a, &Policy::default(), &w.view).unwrap().unwrap_err();
    assert_eq!(r1.code, RejectionCode::NotInJurisdiction);
    assert_eq!(r1, r2);
}

#[test]
fn author_must_be_sender() {
    let w = world();
    let a = leader(w.groups[0]);
    let r = decide(&op(Uuid::from_u128(7), w.households[0]), &a, &Policy::default(), &w.view).unwrap().unwrap_err();
    assert_eq!(r.code, RejectionCode::AuthorMismatch);
}

#[test]
fn repeat_of_same_record_is_idempotent_but_different_content_conflicts() {
    let mut w = world();
    let a = leader(w.groups[0]);
    let o = op(a.user_id, w.households[0]);
    let effects = decide(&o, &a, &Policy::default(), &w.view).unwrap().unwrap();
    let Effect::Put { record, .. } = effects[0].clone();
    w.view.0.insert((record.kind(), record.id()), record);
    let mut again = o.clone();
    again.op_id = Uuid::now_v7();
    assert_eq!(decide(&again, &a, &Policy::default(), &w.view).unwrap().unwrap(), vec![]);
    let Op::RecordVisit(v) = &mut again.op else { unreachable!() };
    v.notes = "changed".into();
    assert_eq!(decide(&again, &a, &Policy::default(), &w.view).unwrap().unwrap_err().code, RejectionCode::IdConflict);
}

fn attach(author: Uuid, target: &Record) -> OpEnvelope {
    OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author,
        created_at: Utc::now(),
        op: Op::AttachPhoto(crate::model::records::Attachment {
            id: Uuid::now_v7(),
            target_kind: target.kind(),
            target_id: target.id(),
            sha256: "a".repeat(64),
            length: 1234,
            content_type: "image/jpeg".into(),
            caption: String::new(),
            author: Uuid::nil(),
            file_item: None,
        }),
        seen: None,
    }
}

#[test]
fn photos_attach_to_visible_writable_records_with_the_targets_scope() {
    let mut w = world();
    let a = leader(w.groups[0]);
    let Effect::Put { record: visit, .. } =
        decide(&op(a.user_id, w.households[0]), &a, &Policy::default(), &w.view).unwrap().unwrap().remove(0);
    w.view.0.insert((visit.kind(), visit.id()), visit.clone());
    let effects = decide(&attach(a.user_id, &visit), &a, &Policy::default(), &w.view).unwrap().unwrap();
    let Effect::Put { record: Record::Attachment(att), scope } = &effects[0] else { panic!() };
    assert_eq!(att.author, a.user_id);
    assert_eq!(scope[0], w.groups[0]);
    assert_eq!(Record::Attachment(att.clone()).visibility_kind(), EntityKind::Visit);
    // the leader of the other village cannot attach to it, nor learn it exists
    let b = leader(w.groups[1]);
    let r = decide(&attach(b.user_id, &visit), &b, &Policy::default(), &w.view).unwrap().unwrap_err();
    assert_eq!(r.code, RejectionCode::NotInJurisdiction);
    let mut ghost = visit.clone();
    if let Record::Visit(v) = &mut ghost {
        v.id = Uuid::now_v7();
    }
    assert_eq!(decide(&attach(b.user_id, &ghost), &b, &Policy::default(), &w.view).unwrap().unwrap_err(), r);
    // a bad hash or an oversize photo is refused
    let mut bad = attach(a.user_id, &visit);
    if let Op::AttachPhoto(x) = &mut bad.op {
        x.sha256 = "XYZ".into();
    }
    assert_eq!(decide(&bad, &a, &Policy::default(), &w.view).unwrap().unwrap_err().code, RejectionCode::InvalidField);
    let mut big = attach(a.user_id, &visit);
    if let Op::AttachPhoto(x) = &mut big.op {
        x.length = Policy::default().photos.max_bytes + 1;
    }
    assert_eq!(decide(&big, &a, &Policy::default(), &w.view).unwrap().unwrap_err().code, RejectionCode::InvalidField);
}

#[test]
fn newer_version_is_refused() {
    let w = world();
    let a = leader(w.groups[0]);
    let mut o = op(a.user_id, w.households[0]);
    o.v = WIRE_VERSION + 1;
    assert_eq!(
        decide(&o, &a, &Policy::default(), &w.view).unwrap().unwrap_err().code,
        RejectionCode::UnsupportedVersion
    );
}

/// A visit to a social body standing in `unit`.
fn body_op(author: Uuid, unit: Uuid) -> OpEnvelope {
    use crate::model::records::{SocialBody, SocialBodyKind};
    let mut env = op(author, Uuid::nil());
    if let Op::RecordVisit(v) = &mut env.op {
        v.body =
            Some(SocialBody {
                kind: SocialBodyKind::Cooperative, name: "联丰农民专业合作社".into(), unit_id: unit
            });
    }
    env
}

#[test]
fn a_visit_to_a_cooperative_is_placed_by_the_unit_where_it_stands() {
    let w = world();
    let a = leader(w.groups[0]);
    let effects = decide(&body_op(a.user_id, w.groups[0]), &a, &Policy::default(), &w.view).unwrap().unwrap();
    let Effect::Put { record: Record::Visit(v), scope } = &effects[0] else { panic!("{effects:?}") };
    assert_eq!(scope, &vec![Uuid::from_u128(5), Uuid::from_u128(3), Uuid::from_u128(2), Uuid::from_u128(1)]);
    assert_eq!(v.group_id, Some(w.groups[0]));
    assert!(v.household_id.is_nil());
    assert_eq!(v.body.as_ref().map(|b| b.name.as_str()), Some("联丰农民专业合作社"));
    assert_eq!(record_scope(&w.view, &Record::Visit(v.clone())).unwrap().as_ref(), Some(scope));

    // a body in another village, or in no unit at all, is out of reach alike
    let r1 = decide(&body_op(a.user_id, w.groups[1]), &a, &Policy::default(), &w.view).unwrap().unwrap_err();
    let r2 = decide(&body_op(a.user_id, Uuid::from_u128(999)), &a, &Policy::default(), &w.view).unwrap().unwrap_err();
    assert_eq!(r1.code, RejectionCode::NotInJurisdiction);
    assert_eq!(r1, r2);
    // a household and a body at once, or neither, is refused before any state is read
    let mut both = body_op(a.user_id, w.groups[0]);
    if let Op::RecordVisit(v) = &mut both.op {
        v.household_id = w.households[0];
    }
    let none = op(a.user_id, Uuid::nil());
    for env in [both, none] {
        let r = decide(&env, &a, &Policy::default(), &w.view).unwrap().unwrap_err();
        assert_eq!(r.code, RejectionCode::InvalidField);
        assert!(r.message.starts_with("走访对象"), "{}", r.message);
    }
}
