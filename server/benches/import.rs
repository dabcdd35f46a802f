//! Import benchmark: 10,000 households (plus 1,000 groups above them) from one
//! `.xlsx` workbook into a fresh sled store, then the same file again
//! (idempotent: nothing written), then a file with 100 households edited.
//!
//! Run: `cargo bench -p fengqiao-server --bench import` (figures in docs/BENCHMARKS.md).

use std::time::{Duration, Instant};

use fengqiao_domain::id_number::check_char;
use fengqiao_domain::policy::Policy;
use fengqiao_server::admin::import::{run, ImportOptions, InputFile};
use fengqiao_server::store::{SledStore, Store};
use rust_xlsxwriter::Workbook;

const TOWNS: usize = 10;
const VILLAGES: usize = 10;
const GROUPS: usize = 10;
const PER_GROUP: usize = 10;
const RUNS: usize = 3;

fn id_number(n: usize) -> String {
    let first17 = format!("15010219800101{:03}", n % 1000);
    let first17 = format!("{}{}", &first17[..6], &format!("{:08}{:03}", 19_800_101 + (n / 1000) % 28, n % 1000));
    let c = check_char(&first17).unwrap_or('0');
    format!("{first17}{c}")
}

fn workbook(edit: usize) -> Result<Vec<u8>, String> {
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("组织").map_err(e)?;
    for (c, h) in ["级别", "上级编码", "编码", "名称"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).map_err(e)?;
    }
    let mut r = 1;
    let mut row = |ws: &mut rust_xlsxwriter::Worksheet, cells: [String; 4]| -> Result<(), String> {
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(r, c as u16, v).map_err(e)?;
        }
        r += 1;
        Ok(())
    };
    row(ws, ["旗".into(), String::new(), "C01".into(), "基准旗".into()])?;
    for t in 0..TOWNS {
        row(ws, ["镇".into(), String::new(), format!("T{t:02}"), format!("{t}镇")])?;
        for v in 0..VILLAGES {
            row(ws, ["村".into(), format!("T{t:02}"), format!("V{v:02}"), format!("{v}村")])?;
            for g in 0..GROUPS {
                row(ws, ["组".into(), format!("T{t:02}/V{v:02}"), format!("G{g:02}"), format!("第{g}组")])?;
            }
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("户").map_err(e)?;
    for (c, h) in ["户编码", "组", "户主", "地址", "电话", "身份证号"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).map_err(e)?;
    }
    let mut n = 0;
    for t in 0..TOWNS {
        for v in 0..VILLAGES {
            for g in 0..GROUPS {
                for h in 0..PER_GROUP {
                    let head = if n < edit { format!("户主{n}改") } else { format!("户主{n}") };
                    let cells = [
                        format!("H{n:05}"),
                        format!("T{t:02}/V{v:02}/G{g:02}"),
                        head,
                        format!("{h}号"),
                        format!("139{n:08}"),
                        id_number(n),
                    ];
                    for (c, val) in cells.iter().enumerate() {
                        ws.write_string(n as u32 + 1, c as u16, val).map_err(e)?;
                    }
                    n += 1;
                }
            }
        }
    }
    wb.save_to_buffer().map_err(e)
}

fn timed(store: &dyn Store, file: &InputFile) -> Result<(Duration, String), String> {
    let start = Instant::now();
    let report = run(store, &Policy::default(), std::slice::from_ref(file), ImportOptions::default(), &mut |_, _| {})
        .map_err(|e| e.to_string())?;
    let took = start.elapsed();
    if !report.problems.is_empty() || !report.written {
        return Err(format!("import refused: {:?}", report.problems.first()));
    }
    Ok((took, report.summary()))
}

fn main() -> Result<(), String> {
    let households = TOWNS * VILLAGES * GROUPS * PER_GROUP;
    let v1 = InputFile { name: "bench.xlsx".into(), bytes: workbook(0)? };
    let v2 = InputFile { name: "bench.xlsx".into(), bytes: workbook(100)? };
    println!("workbook: {households} households, {} bytes", v1.bytes.len());
    for i in 0..RUNS {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let store = SledStore::open(dir.path()).map_err(|e| e.to_string())?;
        let (first, s1) = timed(&store, &v1)?;
        let (again, s2) = timed(&store, &v1)?;
        let (edited, s3) = timed(&store, &v2)?;
        if i == 0 {
            println!("first:  {s1}\nagain:  {s2}\nedited: {s3}");
        }
        println!(
            "run {}: first import {:.2} s, identical re-import {:.2} s, 100 edited {:.2} s",
            i + 1,
            first.as_secs_f64(),
            again.as_secs_f64(),
            edited.as_secs_f64()
        );
    }
    Ok(())
}
