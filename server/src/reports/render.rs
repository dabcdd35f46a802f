//! Rendering rows as CSV (UTF-8 with BOM, for Excel) and xlsx. Every CSV and
//! every xlsx the server writes goes through [`csv`] and [`xlsx`]: cells are
//! typed ([`Cell`]), numbers are numeric cells in xlsx, and text never becomes
//! a formula — in CSV a text cell that a spreadsheet would read as a formula is
//! neutralised ([`neutralise`], CWE-1236), in xlsx text is a string cell.

use rust_xlsxwriter::{Format, Workbook};

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text (shown as written; never a formula).
    Text(String),
    /// A whole number.
    Int(i64),
    /// Money in integer fen, shown in yuan with two decimals.
    Yuan(i64),
    /// A share in per mille, shown as a percentage with one decimal.
    Permille(u32),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

/// Yuan with two decimals from integer fen (`-0.05` for -5 fen).
pub fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// A per-mille share as a percentage with one decimal (`66.6%`).
pub fn permille_text(pm: u32) -> String {
    format!("{}.{}%", pm / 10, pm % 10)
}

impl Cell {
    /// The cell as CSV text (text neutralised).
    fn csv_text(&self) -> String {
        match self {
            Cell::Text(s) => neutralise(s),
            Cell::Int(n) => n.to_string(),
            Cell::Yuan(fen) => yuan_text(*fen),
            Cell::Permille(pm) => permille_text(*pm),
        }
    }
}

/// A text cell a spreadsheet would read as a formula (it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return) gets a leading `'`, which spreadsheets
/// show as text and do not evaluate (OWASP "CSV Injection").
pub fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// CSV bytes with a UTF-8 byte-order mark so Excel shows Chinese correctly.
pub fn csv(headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(headers.iter().map(|h| neutralise(h))).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(r.iter().map(Cell::csv_text)).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// Text cells as a row (for tables that are all text).
pub fn text_row(cells: Vec<String>) -> Vec<Cell> {
    cells.into_iter().map(Cell::Text).collect()
}

/// An xlsx workbook with one sheet: bold header row, frozen, auto-filtered.
/// Numbers are numeric cells (money formatted `0.00`, shares `0.0%`); text is
/// a string cell.
pub fn xlsx(sheet: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, String> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let share = Format::new().set_num_format("0.0%");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(|e| e.to_string())?;
        ws.set_column_width(c as u16, 14).map_err(|e| e.to_string())?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => ws.write_string(r, c, s),
                Cell::Int(n) => ws.write_number(r, c, *n as f64),
                Cell::Yuan(fen) => ws.write_number_with_format(r, c, *fen as f64 / 100.0, &money),
                Cell::Permille(pm) => ws.write_number_with_format(r, c, *pm as f64 / 1000.0, &share),
            }
            .map_err(|e| e.to_string())?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    if !rows.is_empty() {
        ws.autofilter(0, 0, rows.len() as u32, headers.len().saturating_sub(1) as u16).map_err(|e| e.to_string())?;
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;

    #[test]
    fn csv_has_bom_and_quotes() {
        let out = csv(&["a", "b"], &[vec!["张三, 李四".into(), "x\"y".into()]]).unwrap();
        assert_eq!(&out[..3], &[0xEF, 0xBB, 0xBF]);
        let text = String::from_utf8(out[3..].to_vec()).unwrap();
        assert_eq!(text, "a,b\n\"张三, 李四\",\"x\"\"y\"\n");
    }

    #[test]
    fn csv_text_that_looks_like_a_formula_is_neutralised_and_numbers_are_not() {
        let hostile = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "王=五"];
        let mut row: Vec<Cell> = hostile.iter().map(|s| Cell::from(*s)).collect();
        row.extend([Cell::Int(-5), Cell::Yuan(-250), Cell::Permille(666)]);
        let out = csv(&["=h"; 10], &[row]).unwrap();
        let mut rdr = ::csv::ReaderBuilder::new().has_headers(true).from_reader(&out[3..]);
        assert_eq!(&rdr.headers().unwrap()[0], "'=h");
        let rec = rdr.records().next().unwrap().unwrap();
        let got: Vec<&str> = rec.iter().collect();
        assert_eq!(
            got,
            vec![
                "'=HYPERLINK(\"http://x\")",
                "'+1+1",
                "'-2+3",
                "'@SUM(A1)",
                "'\tx",
                "'\rx",
                "王=五",
                "-5",
                "-2.50",
                "66.6%"
            ]
        );
    }

    #[test]
    fn xlsx_numbers_are_numeric_cells_and_text_is_never_a_formula() {
        let rows = vec![vec![Cell::from("=1+1"), Cell::Int(7), Cell::Yuan(12_345), Cell::Permille(500)]];
        let out = xlsx("表", &["a", "b", "c", "d"], &rows).unwrap();
        assert_eq!(&out[..2], b"PK");
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(out)).unwrap();
        let range = book.worksheet_range("表").unwrap();
        assert_eq!(range.get((1, 0)), Some(&Data::String("=1+1".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::Float(7.0)));
        assert_eq!(range.get((1, 2)), Some(&Data::Float(123.45)));
        assert_eq!(range.get((1, 3)), Some(&Data::Float(0.5)));
        let formulas = book.worksheet_formula("表").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formulas in an export");
    }
}
