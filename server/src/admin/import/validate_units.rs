//! The unit rows: levels and kinds (苏木, 嘎查, 社区, …), the tree by code path,
//! and the judicial offices with the towns each serves (ADR 0028).

use std::collections::HashMap;

use fengqiao_domain::{OrgUnit, Record, UnitKind, UnitLevel};
use uuid::Uuid;

use super::super::read::{Field, Table};
use super::super::{ImportProblem, Kind, Plan};
use super::{derived_id, display_path, level_zh, norm_path, status, Rows, Tree};

/// A unit row's level and kind: a level's usual word (镇, 村) or its English name
/// gives no kind; 乡, 苏木, 街道, 嘎查, 社区 (or township, sumu, subdistrict, gacha,
/// community) give the level and the kind.
fn parse_level(s: &str) -> Option<(UnitLevel, Option<UnitKind>)> {
    let t = s.trim().to_lowercase();
    let plain = match t.as_str() {
        "旗" | "县" | "旗县" | "county" => Some(UnitLevel::County),
        "镇" | "乡镇" | "town" => Some(UnitLevel::Town),
        "司法所" | "中心司法所" | "judicialoffice" | "judicial_office" | "judicial office" => {
            Some(UnitLevel::JudicialOffice)
        }
        "村" | "village" => Some(UnitLevel::Village),
        "组" | "村民小组" | "group" => Some(UnitLevel::Group),
        _ => None,
    };
    plain.map(|l| (l, None)).or_else(|| UnitKind::parse(&t).map(|k| (k.level(), Some(k))))
}

/// The town codes of a 服务乡镇 cell.
fn served_codes(s: &str) -> Vec<String> {
    s.split(['、', ',', '，', ';', '；', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

pub(super) fn plan_units(tables: &[Table], tree: &mut Tree, plan: &mut Plan, problems: &mut Vec<ImportProblem>) {
    // (table, row, (level, kind), parent path, code, name, served town codes)
    #[allow(clippy::type_complexity)]
    let mut rows: Vec<(usize, u32, (UnitLevel, Option<UnitKind>), String, String, String, Vec<String>)> = Vec::new();
    for (ti, t) in tables.iter().enumerate().filter(|(_, t)| t.kind == Kind::Units) {
        let mut r = Rows { t, problems };
        for (row, cells) in &t.rows {
            let level_text = r.required(*row, cells, Field::Level, "级别 (level)");
            let level = level_text.as_deref().map(parse_level);
            if let Some(None) = level {
                r.report(*row, Field::Level, "unknown level: use 旗, 镇/乡/苏木/街道, 司法所, 村/嘎查/社区 or 组");
            }
            let code = r.required(*row, cells, Field::Code, "编码 (code)");
            if code.as_deref().is_some_and(|c| c.contains(['/', '／'])) {
                r.report(*row, Field::Code, "a code may not contain '/'");
                plan.invalid.units += 1;
                continue;
            }
            let name = r.required(*row, cells, Field::Name, "名称 (name)");
            let parent = r.text(*row, cells, Field::Parent).map(|p| norm_path(&p));
            let serves = served_codes(&r.text(*row, cells, Field::Serves).unwrap_or_default());
            let office = matches!(level, Some(Some((UnitLevel::JudicialOffice, _))));
            if !office && !serves.is_empty() {
                r.report(*row, Field::Serves, "only a 司法所 row lists the towns it serves");
                plan.invalid.units += 1;
                continue;
            }
            if office && serves.is_empty() {
                r.report(*row, Field::Serves, "a 司法所 serves at least one town: list their codes in 服务乡镇");
                plan.invalid.units += 1;
                continue;
            }
            if let (Some(Some(level)), Some(code), Some(name), Some(parent)) = (level, code, name, parent) {
                rows.push((ti, *row, level, parent, code, name, serves));
            } else {
                plan.invalid.units += 1;
            }
        }
    }
    rows.sort_by_key(|(ti, row, level, ..)| (level.0, *ti, *row));
    let mut seen: HashMap<String, u32> = HashMap::new();
    // each office row planned: its id and the towns it serves
    let mut served: Vec<(Uuid, Vec<Uuid>)> = Vec::new();
    for (ti, row, (level, kind), parent, code, name, serves) in rows {
        let mut r = Rows { t: &tables[ti], problems };
        let path = if level == UnitLevel::County {
            String::new()
        } else if parent.is_empty() {
            code.clone()
        } else {
            format!("{parent}/{code}")
        };
        if let Some(first) = seen.get(&path) {
            r.report(row, Field::Code, format!("duplicate unit {} (also row {first})", display_path(&path)));
            plan.invalid.units += 1;
            continue;
        }
        seen.insert(path.clone(), row);
        let parent_unit = if level == UnitLevel::County {
            if !parent.is_empty() {
                r.report(row, Field::Parent, "the county has no parent");
                plan.invalid.units += 1;
                continue;
            }
            None
        } else {
            let expected = level.parent().unwrap_or(UnitLevel::County);
            match tree.by_path.get(&parent) {
                None => {
                    r.report(row, Field::Parent, format!("unknown parent unit {}", display_path(&parent)));
                    plan.invalid.units += 1;
                    continue;
                }
                Some(p) if p.level != expected => {
                    r.report(
                        row,
                        Field::Parent,
                        format!(
                            "a {} belongs under a {}, but {} is a {}",
                            level_zh(level),
                            level_zh(expected),
                            display_path(&parent),
                            level_zh(p.level)
                        ),
                    );
                    plan.invalid.units += 1;
                    continue;
                }
                Some(p) => Some(p.id),
            }
        };
        let existing = tree.by_path.get(&path).cloned();
        if let Some(e) = existing.as_ref().filter(|e| e.level != level) {
            let msg = format!("{} is already a {}, not a {}", display_path(&path), level_zh(e.level), level_zh(level));
            r.report(row, Field::Level, msg);
            plan.invalid.units += 1;
            continue;
        }
        let id = match (&existing, level, &tree.county) {
            (Some(e), ..) => e.id,
            (None, UnitLevel::County, _) => derived_id(Uuid::nil(), "county", &code),
            (None, _, Some(c)) => derived_id(c.id, "unit", &path),
            (None, _, None) => derived_id(Uuid::nil(), "unit", &path),
        };
        let mut towns = Vec::new();
        for t in &serves {
            match tree.by_path.get(t) {
                Some(u) if u.level == UnitLevel::Town => towns.push(u.id),
                _ => r.report(row, Field::Serves, format!("{t} is not a town (镇/乡/苏木/街道) of the county")),
            }
        }
        if towns.len() != serves.len() {
            plan.invalid.units += 1;
            continue;
        }
        if level == UnitLevel::JudicialOffice {
            served.push((id, towns));
        }
        // a town keeps the offices serving it; office rows below set them
        let offices = tree.existing.get(&id).map(|e| e.offices.clone()).unwrap_or_default();
        let unit = OrgUnit { id, code, name, level, parent: parent_unit, kind, offices };
        let st = status(tree.existing.get(&id), &unit);
        if level == UnitLevel::County {
            tree.county = Some(unit.clone());
        }
        tree.by_path.insert(path, unit.clone());
        plan.units.push((Record::Unit(unit), st));
    }
    set_offices(tree, plan, &served);
}

/// Each office row of the file states every town it serves: a town lists the
/// offices of the file that serve it, and keeps those the file does not name.
/// Towns whose list changes are written too.
fn set_offices(tree: &mut Tree, plan: &mut Plan, served: &[(Uuid, Vec<Uuid>)]) {
    if served.is_empty() {
        return;
    }
    let named: Vec<Uuid> = served.iter().map(|(o, _)| *o).collect();
    let towns: Vec<OrgUnit> = tree.by_path.values().filter(|u| u.level == UnitLevel::Town).cloned().collect();
    for mut town in towns {
        let mut offices: Vec<Uuid> = town.offices.iter().filter(|o| !named.contains(o)).copied().collect();
        offices.extend(served.iter().filter(|(_, ts)| ts.contains(&town.id)).map(|(o, _)| *o));
        offices.sort();
        offices.dedup();
        if offices == town.offices {
            continue;
        }
        town.offices = offices;
        let st = status(tree.existing.get(&town.id), &town);
        match plan.units.iter_mut().find(|(r, _)| r.id() == town.id) {
            Some(planned) => *planned = (Record::Unit(town.clone()), st),
            None => plan.units.push((Record::Unit(town.clone()), st)),
        }
        if let Some(u) = tree.by_path.values_mut().find(|u| u.id == town.id) {
            *u = town;
        }
    }
}
