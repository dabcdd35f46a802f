//! Reading the audit log for administrators: CSV export of a query's entries.
//! (Writing happens where each action is taken; see [`crate::store::audit`].)

use crate::reports::render::{self, Cell};
use crate::store::AuditEntry;

/// Column headers of the CSV export.
pub const CSV_HEADERS: [&str; 8] = ["seq", "at", "actor", "device", "action", "target", "outcome", "detail"];

/// One entry as CSV cells (UTC times in RFC 3339).
pub fn cells(e: &AuditEntry) -> Vec<Cell> {
    let opt = |u: Option<uuid::Uuid>| Cell::Text(u.map(|u| u.to_string()).unwrap_or_default());
    vec![
        Cell::Int(i64::try_from(e.seq).unwrap_or(i64::MAX)),
        Cell::Text(e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        opt(e.actor),
        opt(e.device),
        Cell::Text(e.action.code().to_string()),
        Cell::Text(e.target.clone().unwrap_or_default()),
        Cell::Text(e.outcome.clone()),
        Cell::Text(e.detail.clone()),
    ]
}

/// The entries as CSV (UTF-8 with BOM, for Excel).
pub fn csv(entries: &[AuditEntry]) -> Result<Vec<u8>, String> {
    let rows: Vec<Vec<Cell>> = entries.iter().map(cells).collect();
    render::csv(&CSV_HEADERS, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditAction;

    #[test]
    fn csv_has_one_line_per_entry_with_stable_codes() {
        let mut e = crate::store::AuditEntry::new(AuditAction::LoginFailed, None, None, "invalid_credentials");
        e.seq = 7;
        e.detail = "unknown user".into();
        let out = csv(&[e]).unwrap();
        let text = String::from_utf8(out[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "seq,at,actor,device,action,target,outcome,detail");
        assert!(lines[1].starts_with("7,"));
        assert!(lines[1].ends_with(",,,login_failed,,invalid_credentials,unknown user"), "{}", lines[1]);
    }
}
