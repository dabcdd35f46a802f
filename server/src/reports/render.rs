//! Rendering rows as CSV (UTF-8 with BOM, for Excel) and xlsx.

use rust_xlsxwriter::{Format, Workbook};

/// CSV bytes with a UTF-8 byte-order mark so Excel shows Chinese correctly.
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(headers).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(r).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// An xlsx workbook with one sheet: bold header row, frozen, auto-filtered.
pub fn xlsx(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(|e| e.to_string())?;
        ws.set_column_width(c as u16, 14).map_err(|e| e.to_string())?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, cell).map_err(|e| e.to_string())?;
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
    use super::*;

    #[test]
    fn csv_has_bom_and_quotes() {
        let out = csv(&["a", "b"], &[vec!["张三, 李四".into(), "x\"y".into()]]).unwrap();
        assert_eq!(&out[..3], &[0xEF, 0xBB, 0xBF]);
        let text = String::from_utf8(out[3..].to_vec()).unwrap();
        assert_eq!(text, "a,b\n\"张三, 李四\",\"x\"\"y\"\n");
    }

    #[test]
    fn xlsx_is_a_zip() {
        let out = xlsx("流向表", &["a"], &[vec!["1".into()]]).unwrap();
        assert_eq!(&out[..2], b"PK");
    }
}
