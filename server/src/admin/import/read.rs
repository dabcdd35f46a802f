//! Reading import files into tables: `.xlsx` (and `.xls`/`.ods`) workbooks, one
//! table per recognised sheet, or CSV files, one table each. A table's kind is
//! told by its header row (Chinese headers, English aliases), not by its name.

use std::io::Cursor;

use calamine::{open_workbook_auto_from_rs, Data, Reader};

use super::{ImportProblem, Kind};

/// A column the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// Unit level or kind: 旗, 镇/乡/苏木/街道, 司法所, 村/嘎查/社区, 组 (or English).
    Level,
    /// Parent unit's code path.
    Parent,
    /// Unit code.
    Code,
    /// Unit name.
    Name,
    /// The towns a judicial office serves (codes, separated by 、 , ; or spaces).
    Serves,
    /// Sign-in name.
    Username,
    /// Display name.
    DisplayName,
    /// Role code or Chinese label.
    Role,
    /// The role's unit (code path; empty = the county).
    Unit,
    /// Initial password of a new user.
    Password,
    /// Household code.
    HouseholdCode,
    /// The household's group (code path).
    Group,
    /// Household head's name.
    HeadName,
    /// Address.
    Address,
    /// Phone.
    Phone,
    /// Resident identity number.
    IdNumber,
}

/// Every column of each kind: field, the template's (Chinese) header, accepted
/// aliases (compared case-insensitively, ignoring spaces, `_` and `-`), required.
pub const COLUMNS: [(Kind, Field, &str, &[&str], bool); 16] = [
    (Kind::Units, Field::Level, "级别", &["层级", "level"], true),
    (Kind::Units, Field::Parent, "上级编码", &["上级", "parent", "parentcode", "parentpath"], false),
    (Kind::Units, Field::Code, "编码", &["代码", "code", "unitcode"], true),
    (Kind::Units, Field::Name, "名称", &["name", "unitname"], true),
    (Kind::Units, Field::Serves, "服务乡镇", &["服务镇", "serves", "servedtowns"], false),
    (Kind::Users, Field::Username, "用户名", &["账号", "username", "login"], true),
    (Kind::Users, Field::DisplayName, "姓名", &["displayname", "name"], true),
    (Kind::Users, Field::Role, "角色", &["role"], true),
    (Kind::Users, Field::Unit, "单位", &["所属单位", "unit", "unitpath"], false),
    (Kind::Users, Field::Password, "初始密码", &["密码", "password", "initialpassword"], false),
    (Kind::Households, Field::HouseholdCode, "户编码", &["户号", "householdcode"], true),
    (Kind::Households, Field::Group, "组", &["所属组", "group", "grouppath"], true),
    (Kind::Households, Field::HeadName, "户主", &["户主姓名", "headname", "head"], true),
    (Kind::Households, Field::Address, "地址", &["门牌", "address"], false),
    (Kind::Households, Field::Phone, "电话", &["联系电话", "手机", "phone"], false),
    (Kind::Households, Field::IdNumber, "身份证号", &["身份证号码", "idnumber"], false),
];

/// Marks a cell holding a number too long for a spreadsheet to keep exactly.
pub const LOSSY: &str = "\u{0}lossy";

/// One sheet or CSV file, recognised.
#[derive(Debug, Clone)]
pub struct Table {
    /// File name as given.
    pub file: String,
    /// Sheet name (a CSV's file name).
    pub sheet: String,
    /// What it holds.
    pub kind: Kind,
    /// Header text by column index.
    pub headers: Vec<String>,
    /// Column index of each known field present.
    pub columns: Vec<(Field, usize)>,
    /// Data rows: 1-based row number as the spreadsheet shows it, and cells.
    pub rows: Vec<(u32, Vec<String>)>,
}

impl Table {
    /// The column of a field, if present.
    pub fn col(&self, f: Field) -> Option<usize> {
        self.columns.iter().find(|(g, _)| *g == f).map(|(_, c)| *c)
    }
}

/// Spreadsheet column letters of a 0-based index (0 → A, 26 → AA).
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn norm(h: &str) -> String {
    h.trim().chars().filter(|c| !matches!(c, ' ' | '_' | '-' | '\u{3000}')).flat_map(char::to_lowercase).collect()
}

/// Recognises a header row: its kind and known columns, or `None`.
fn recognise(headers: &[String]) -> Option<(Kind, Vec<(Field, usize)>)> {
    let normed: Vec<String> = headers.iter().map(|h| norm(h)).collect();
    let find = |kind: Kind| -> Vec<(Field, usize)> {
        let mut out = Vec::new();
        for (k, f, zh, aliases, _) in COLUMNS.iter() {
            if *k != kind {
                continue;
            }
            let hit = normed.iter().position(|h| h == &norm(zh) || aliases.iter().any(|a| h == &norm(a)));
            if let Some(c) = hit {
                out.push((*f, c));
            }
        }
        out
    };
    let has = |cols: &[(Field, usize)], f: Field| cols.iter().any(|(g, _)| *g == f);
    let hh = find(Kind::Households);
    if has(&hh, Field::HouseholdCode) {
        return Some((Kind::Households, hh));
    }
    let users = find(Kind::Users);
    if has(&users, Field::Username) {
        return Some((Kind::Users, users));
    }
    let units = find(Kind::Units);
    if has(&units, Field::Level) {
        return Some((Kind::Units, units));
    }
    None
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) if f.abs() >= 1e15 => LOSSY.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        other => other.to_string(),
    }
}

fn table(file: &str, sheet: &str, rows: Vec<(u32, Vec<String>)>, problems: &mut Vec<ImportProblem>) -> Option<Table> {
    let mut it = rows.into_iter().skip_while(|(_, r)| r.iter().all(|c| c.is_empty()));
    let (header_row, headers) = it.next()?;
    let (kind, columns) = recognise(&headers)?;
    for (k, f, zh, aliases, required) in COLUMNS.iter() {
        if *k == kind && *required && !columns.iter().any(|(g, _)| g == f) {
            problems.push(ImportProblem {
                file: file.into(),
                sheet: sheet.into(),
                row: header_row,
                column: String::new(),
                header: (*zh).into(),
                message: format!("missing column {zh} ({})", aliases.last().copied().unwrap_or_default()),
            });
        }
    }
    let rows = it.filter(|(_, r)| r.iter().any(|c| !c.is_empty())).collect();
    Some(Table { file: file.into(), sheet: sheet.into(), kind, headers, columns, rows })
}

fn problem(file: &str, message: impl Into<String>) -> ImportProblem {
    ImportProblem {
        file: file.into(),
        sheet: String::new(),
        row: 0,
        column: String::new(),
        header: String::new(),
        message: message.into(),
    }
}

/// Reads one file into its recognised tables; unreadable files and missing
/// columns are reported as problems.
pub fn read_file(name: &str, bytes: &[u8], problems: &mut Vec<ImportProblem>) -> Vec<Table> {
    let workbook = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let mut out = Vec::new();
    if workbook {
        let mut wb = match open_workbook_auto_from_rs(Cursor::new(bytes)) {
            Ok(wb) => wb,
            Err(e) => {
                problems.push(problem(name, format!("not a readable workbook: {e}")));
                return out;
            }
        };
        for (sheet, range) in wb.worksheets() {
            let (r0, c0) = range.start().unwrap_or((0, 0));
            let rows = range
                .rows()
                .enumerate()
                .map(|(i, r)| {
                    let mut cells: Vec<String> = vec![String::new(); c0 as usize];
                    cells.extend(r.iter().map(cell_text));
                    (r0 + i as u32 + 1, cells)
                })
                .collect();
            out.extend(table(name, &sheet, rows, problems));
        }
    } else {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
            Err(_) => {
                problems.push(problem(name, "not UTF-8: save the CSV as \"CSV UTF-8\" (or use the .xlsx template)"));
                return out;
            }
        };
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut rows = Vec::new();
        // Line numbers from byte offsets (the reader's own count skips blank lines).
        let (mut line, mut at) = (1u32, 0usize);
        for (i, rec) in rdr.records().enumerate() {
            match rec {
                Ok(r) => {
                    let mut byte = r.position().map_or(at, |p| p.byte() as usize).min(text.len());
                    // The position may point at blank lines skipped before the record.
                    while byte < text.len() && matches!(text.as_bytes()[byte], b'\n' | b'\r') {
                        byte += 1;
                    }
                    line += text.as_bytes()[at.min(byte)..byte].iter().filter(|b| **b == b'\n').count() as u32;
                    at = byte;
                    let line = if r.position().is_some() { line } else { i as u32 + 1 };
                    rows.push((line, r.iter().map(|c| c.trim().to_string()).collect()));
                }
                Err(e) => {
                    problems.push(problem(name, format!("not a readable CSV file: {e}")));
                    return out;
                }
            }
        }
        let stem = std::path::Path::new(name).file_stem().map(|s| s.to_string_lossy().into_owned());
        out.extend(table(name, &stem.unwrap_or_else(|| name.to_string()), rows, problems));
    }
    if out.is_empty() && problems.iter().all(|p| p.file != name) {
        problems
            .push(problem(name, "no sheet with a recognised header row (see the template: fengqiao-server template)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_header_aliases() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (k, cols) = recognise(&h(&["Household_Code", "group", "Head Name", "备注"])).unwrap();
        assert_eq!(k, Kind::Households);
        assert_eq!(cols, vec![(Field::HouseholdCode, 0), (Field::Group, 1), (Field::HeadName, 2)]);
        assert_eq!(recognise(&h(&["用户名", "姓名", "角色"])).unwrap().0, Kind::Users);
        assert_eq!(recognise(&h(&["级别", "编码", "名称"])).unwrap().0, Kind::Units);
        assert!(recognise(&h(&["说明"])).is_none());
    }

    #[test]
    fn csv_rows_keep_their_line_numbers_and_missing_columns_are_reported() {
        let mut p = Vec::new();
        let t = read_file("hh.csv", "\u{feff}户编码,户主\n\nH1,王五\n".as_bytes(), &mut p);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].rows, vec![(3, vec!["H1".to_string(), "王五".to_string()])]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("missing column 组"), "{}", p[0].message);
        let mut p = Vec::new();
        assert!(read_file("x.csv", &[0xB0, 0xA1, b','], &mut p).is_empty());
        assert!(p[0].message.contains("UTF-8"));
    }
}
