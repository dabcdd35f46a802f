//! Workbooks for the import tests: sheets of text cells, as a county's clerk types them.

use rust_xlsxwriter::Workbook;

/// A sheet: its name, header row and rows.
pub type Sheet<'a> = (&'a str, &'a [&'a str], Vec<Vec<&'a str>>);

/// A workbook of text cells (an empty string leaves its cell empty).
pub fn workbook(sheets: &[Sheet<'_>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, headers, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).expect("a sheet name");
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(0, c as u16, *h).expect("a header");
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r as u32 + 1, c as u16, *v).expect("a cell");
                }
            }
        }
    }
    wb.save_to_buffer().expect("the workbook")
}
