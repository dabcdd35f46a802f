//! Template import files: a workbook with the three sheets (组织, 用户, 户) and one
//! CSV file per sheet, each with its header row and one example row. Every cell
//! is text, so phone and ID numbers typed into the template keep every digit.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook};

use super::import::read::COLUMNS;
use super::import::Kind;
use crate::reports::render;

/// File name of the template workbook.
pub const XLSX_NAME: &str = "fengqiao-import-template.xlsx";

/// Sheet name and CSV file name of each kind, in import order.
pub const SHEETS: [(Kind, &str, &str); 3] = [
    (Kind::Units, "组织", "units.csv"),
    (Kind::Users, "用户", "users.csv"),
    (Kind::Households, "户", "households.csv"),
];

/// The header row of a kind (the Chinese headers).
pub fn headers(kind: Kind) -> Vec<&'static str> {
    COLUMNS.iter().filter(|c| c.0 == kind).map(|c| c.2).collect()
}

/// The example row of a kind (a demo-county path; a made-up household).
pub fn example(kind: Kind) -> Vec<&'static str> {
    match kind {
        Kind::Units => vec!["组", "T01/V01", "G04", "第四组", ""],
        Kind::Users => vec!["zhang.san", "张三", "组长", "T01/V01/G04", "Change-me-2026"],
        // The ID number is the standard's own example (GB 11643-1999), not a person's.
        Kind::Households => vec!["H0001", "T01/V01/G04", "王建国", "第四组1号", "13900000000", "11010519491231002X"],
    }
}

/// The template workbook.
pub fn xlsx() -> Result<Vec<u8>, String> {
    let mut wb = Workbook::new();
    let text = Format::new().set_num_format("@");
    let bold = Format::new().set_bold().set_num_format("@");
    for (kind, sheet, _) in SHEETS {
        let ws = wb.add_worksheet();
        ws.set_name(sheet).map_err(|e| e.to_string())?;
        for (c, h) in headers(kind).iter().enumerate() {
            let c = c as u16;
            ws.set_column_width(c, 16).map_err(|e| e.to_string())?;
            ws.set_column_format(c, &text).map_err(|e| e.to_string())?;
            ws.write_string_with_format(0, c, *h, &bold).map_err(|e| e.to_string())?;
        }
        for (c, v) in example(kind).iter().enumerate() {
            ws.write_string_with_format(1, c as u16, *v, &text).map_err(|e| e.to_string())?;
        }
        ws.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

/// The template CSV of a kind (UTF-8 with BOM).
pub fn csv(kind: Kind) -> Result<Vec<u8>, String> {
    let row: Vec<render::Cell> = example(kind).into_iter().map(render::Cell::from).collect();
    render::csv(&headers(kind), &[row])
}

/// Writes the workbook and the three CSV files into `dir` (created if missing).
pub fn write_all(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let mut out = Vec::new();
    let path = dir.join(XLSX_NAME);
    std::fs::write(&path, xlsx().map_err(anyhow::Error::msg)?)?;
    out.push(path);
    for (kind, _, name) in SHEETS {
        let path = dir.join(name);
        std::fs::write(&path, csv(kind).map_err(anyhow::Error::msg)?)?;
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::import::read::read_file;

    #[test]
    fn templates_read_back_as_their_kinds_with_every_column() {
        let mut problems = Vec::new();
        let tables = read_file(XLSX_NAME, &xlsx().unwrap(), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(tables.iter().map(|t| t.kind).collect::<Vec<_>>(), vec![Kind::Units, Kind::Users, Kind::Households]);
        for t in &tables {
            assert_eq!(t.columns.len(), headers(t.kind).len());
            assert_eq!(t.rows.len(), 1);
            assert_eq!(t.rows[0].0, 2, "the example is row 2");
            assert_eq!(t.rows[0].1, example(t.kind));
        }
        for (kind, _, name) in SHEETS {
            let mut problems = Vec::new();
            let t = read_file(name, &csv(kind).unwrap(), &mut problems);
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(t[0].kind, kind);
        }
    }
}
