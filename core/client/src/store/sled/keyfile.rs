//! The store's key file, `store.key`: the random data key everything is
//! sealed with, wrapped by the app's [`StoreKey`] (ADR 0010). It sits beside
//! sled's files, not inside them, so a damaged store can still be recovered
//! from its (sealed) outbox journal.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use super::super::vault::{DataKey, StoreKey, Vault};
use super::super::{StoreError, StoreResult};

/// The key file's name.
pub(crate) const KEY_FILE: &str = "store.key";
/// Its first bytes (format 1).
const MAGIC: &[u8; 4] = b"FQK1";

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("store.key: {e}"))
}

/// The wrapped data key in `dir`, if there is one.
fn read(dir: &Path) -> StoreResult<Option<Vec<u8>>> {
    match fs::read(dir.join(KEY_FILE)) {
        Ok(bytes) => match bytes.strip_prefix(MAGIC.as_slice()) {
            Some(wrapped) => Ok(Some(wrapped.to_vec())),
            None => Err(StoreError::Corrupt("store.key: not a store key file".into())),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// Writes the wrapped key: temp file, synced, renamed into place, folder synced.
fn write(dir: &Path, wrapped: &[u8]) -> StoreResult<()> {
    let tmp = dir.join(format!("{KEY_FILE}.tmp"));
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp).map_err(io)?;
    f.write_all(MAGIC).map_err(io)?;
    f.write_all(wrapped).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    fs::rename(&tmp, dir.join(KEY_FILE)).map_err(io)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The store's keys, opened with the app's `key`; a new store gets a fresh
/// data key. [`StoreError::WrongKey`] if `key` did not wrap it (nothing is
/// changed then).
pub(crate) fn open_or_create(dir: &Path, key: &StoreKey) -> StoreResult<Vault> {
    fs::create_dir_all(dir).map_err(io)?;
    if let Some(wrapped) = read(dir)? {
        return Ok(Vault::new(&key.unwrap(&wrapped)?));
    }
    if dir.join("db").exists() || dir.join("conf").exists() {
        return Err(StoreError::Corrupt(
            "the store's key file (store.key) is missing: its data cannot be read without it".into(),
        ));
    }
    let data_key = DataKey::generate();
    write(dir, &key.wrap(&data_key)?)?;
    Ok(Vault::new(&data_key))
}

/// Re-wraps the data key under `new_key` after checking `current` opens it.
pub(crate) fn rotate(dir: &Path, current: &StoreKey, new_key: &StoreKey) -> StoreResult<()> {
    let wrapped = read(dir)?.ok_or_else(|| StoreError::Corrupt("store.key is missing".into()))?;
    let data_key = current.unwrap(&wrapped)?;
    write(dir, &new_key.wrap(&data_key)?)
}
