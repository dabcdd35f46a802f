//! Household search offline (户籍查询): the households pulled to this phone
//! found by the head's name, the county's household code, the address or the
//! pinyin initials of the head's name (`zs` finds 张三), each with its standing
//! (services suspended or not) and nothing more of its record: what a group
//! leader may know of a household's violations is whether they suspend it.
//!
//! The initials come from two tables made once with pypinyin and committed
//! beside this file (`households/gen_initials.py` writes them): the first
//! letter of every CJK unified ideograph U+4E00..U+9FFF, and the other initials
//! of characters read several ways (曾 is `c` and `z`), so a surname's reading
//! matches whichever the user types.

use std::collections::HashMap;
use std::sync::OnceLock;

use fengqiao_domain::{EntityKind, Household, Record};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};

/// The first CJK unified ideograph the initials table covers.
const FIRST_CJK: u32 = 0x4E00;
/// One ASCII letter per ideograph from [`FIRST_CJK`] (`.`: none).
static INITIALS: &[u8] = include_bytes!("households/initials.dat");
/// Lines of one ideograph followed by its other initials.
static INITIALS_ALT: &str = include_str!("households/initials_alt.txt");

/// At most this many households in one answer.
pub const MAX_SEARCH_RESULTS: u32 = 500;

/// A household found, with its standing and no more of its record than the list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdMatch {
    /// The household (head's name, address, group, code).
    pub household: Household,
    /// Its services are suspended now (暂停公共服务), from the standing last pulled.
    pub suspended: bool,
}

fn alternatives() -> &'static HashMap<char, &'static str> {
    static ALT: OnceLock<HashMap<char, &'static str>> = OnceLock::new();
    ALT.get_or_init(|| {
        INITIALS_ALT
            .lines()
            .filter_map(|l| {
                let mut chars = l.char_indices();
                let (_, c) = chars.next()?;
                let rest = chars.next().map_or("", |(i, _)| &l[i..]);
                Some((c, rest))
            })
            .collect()
    })
}

/// The initials a character may be typed as: its own letter (lower case) for
/// ASCII letters and digits, its pinyin initials for an ideograph, none else.
fn initials_of(c: char) -> Vec<char> {
    if c.is_ascii_alphanumeric() {
        return vec![c.to_ascii_lowercase()];
    }
    let Some(i) = (c as u32).checked_sub(FIRST_CJK) else { return vec![] };
    let Some(&first) = INITIALS.get(i as usize) else { return vec![] };
    if !first.is_ascii_alphabetic() {
        return vec![];
    }
    let mut out = vec![char::from(first)];
    if let Some(more) = alternatives().get(&c) {
        out.extend(more.chars());
    }
    out
}

/// Whether `query` (lower-case ASCII letters) is the pinyin initials of the
/// start of `name`, one letter per character (`zs` and `z` match 张三).
pub fn initials_match(name: &str, query: &str) -> bool {
    let mut chars = name.chars().filter(|c| !c.is_whitespace() && *c != '·');
    query.chars().all(|q| chars.next().is_some_and(|c| initials_of(c).contains(&q)))
}

/// How well `h` answers `query` (lower is better), or `None` if it does not.
/// The code or name equal, then the name starting with it or its initials,
/// then the name, code or address containing it.
fn rank(h: &Household, query: &str, initials: bool) -> Option<u8> {
    let code = h.code.as_deref().unwrap_or("").to_lowercase();
    let name = h.head_name.to_lowercase();
    if code == query || name == query {
        Some(0)
    } else if name.starts_with(query) || (initials && initials_match(&h.head_name, query)) {
        Some(1)
    } else if name.contains(query) || code.contains(query) || h.address.to_lowercase().contains(query) {
        Some(2)
    } else {
        None
    }
}

/// The households of `all` that answer `query` with their standing, best
/// first, then by name and address; every household (by name) for a blank query.
pub fn search(all: Vec<Household>, suspended: &dyn Fn(Uuid) -> bool, query: &str, limit: u32) -> Vec<HouseholdMatch> {
    let q = query.trim().to_lowercase();
    let initials = !q.is_empty() && q.chars().all(|c| c.is_ascii_lowercase());
    let mut found: Vec<(u8, Household)> = all
        .into_iter()
        .filter_map(|h| if q.is_empty() { Some((0, h)) } else { rank(&h, &q, initials).map(|r| (r, h)) })
        .collect();
    found.sort_by(|(ra, a), (rb, b)| (ra, &a.head_name, &a.address, a.id).cmp(&(rb, &b.head_name, &b.address, b.id)));
    found
        .into_iter()
        .take(limit.min(MAX_SEARCH_RESULTS) as usize)
        .map(|(_, h)| HouseholdMatch { suspended: suspended(h.id), household: h })
        .collect()
}

impl FieldClient {
    /// Households on this phone that answer `query` by the head's name, the
    /// household code, the address or the name's pinyin initials, best first
    /// (at most `limit`, capped at [`MAX_SEARCH_RESULTS`]), each with whether
    /// its services are suspended now. Offline.
    pub fn search_households(&self, query: &str, limit: u32) -> Result<Vec<HouseholdMatch>, ClientError> {
        let run = || -> Result<Vec<HouseholdMatch>, Error> {
            self.session()?;
            let households: Vec<Household> = self
                .store
                .list_records(EntityKind::Household, usize::MAX)?
                .into_iter()
                .filter_map(|r| match r.record {
                    Record::Household(h) => Some(h),
                    _ => None,
                })
                .collect();
            let now = self.options.clock.now();
            let suspended: HashMap<Uuid, bool> = self
                .store
                .list_records(EntityKind::HouseholdStanding, usize::MAX)?
                .into_iter()
                .filter_map(|r| match r.record {
                    Record::HouseholdStanding(s) => Some((s.household_id, s.suspended_at(now))),
                    _ => None,
                })
                .collect();
            Ok(search(households, &|id| suspended.get(&id).copied().unwrap_or(false), query, limit))
        };
        Ok(run()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(name: &str, address: &str, code: Option<&str>) -> Household {
        Household {
            id: Uuid::now_v7(),
            group_id: Uuid::nil(),
            head_name: name.into(),
            address: address.into(),
            phone: None,
            code: code.map(String::from),
            id_number: None,
        }
    }

    #[test]
    fn initials_of_names_with_several_readings() {
        assert!(initials_match("张三", "zs"));
        assert!(initials_match("张三", "z"));
        assert!(!initials_match("张三", "zsf"), "longer than the name");
        assert!(!initials_match("张三", "ls"));
        assert!(initials_match("曾小明", "zxm"), "曾 as a surname");
        assert!(initials_match("曾小明", "cxm"), "曾 read ceng");
        assert!(initials_match("单田芳", "stf"), "单 as a surname");
        assert!(initials_match("巴特尔·朝鲁", "btecl") || initials_match("巴特尔·朝鲁", "btezl"), "the dot is skipped");
    }

    #[test]
    fn found_by_name_code_address_or_initials_best_first_with_standing() {
        let zhang = home("张三", "一组3号", Some("H-0001"));
        let zhao = home("赵六", "二组5号", Some("H-0002"));
        let wang = home("王张氏", "一组8号", None);
        let suspended_id = zhao.id;
        let all = vec![wang.clone(), zhao.clone(), zhang.clone()];
        let standing = move |id: Uuid| id == suspended_id;
        let names = |q: &str| -> Vec<String> {
            search(all.clone(), &standing, q, 50).into_iter().map(|m| m.household.head_name).collect()
        };
        assert_eq!(names("张"), vec!["张三", "王张氏"], "the name starting with it first");
        assert_eq!(names("zs"), vec!["张三"]);
        assert_eq!(names("z"), vec!["张三", "赵六"], "initials of two names");
        assert_eq!(names("h-0002"), vec!["赵六"], "the code, in any case");
        assert_eq!(names("一组"), vec!["张三", "王张氏"], "the address, then by name");
        assert_eq!(names("  "), vec!["张三", "王张氏", "赵六"], "a blank query lists all by name");
        assert!(names("李").is_empty());
        let found = search(all.clone(), &standing, "赵", 50);
        assert!(found[0].suspended, "the standing comes with the household");
        assert!(!search(all.clone(), &standing, "张三", 50)[0].suspended);
        assert_eq!(search(all, &standing, "", 2).len(), 2, "the limit");
    }
}
