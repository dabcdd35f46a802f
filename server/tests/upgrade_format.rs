//! Upgrades (issue 26, ADR 0032): a data dir written by the previous store
//! format (a fixture made by main's server before format 2, see
//! `fixtures/README.md`) is backed up, then migrated forward, and served with
//! everything it held; a data dir of a newer format is refused with a clear
//! message.

use std::path::Path;

use fengqiao_domain::EntityKind;
use fengqiao_server::app::{self, ServerConfig};
use fengqiao_server::backup;
use fengqiao_server::store::sled_store::STORE_FORMAT;
use fengqiao_server::store::{FeedEpoch, SledStore, SyncStore};
use uuid::Uuid;

/// The fixture unpacked into `dir`.
fn unpack_format1(dir: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format1-datadir.tar.gz");
    let status = std::process::Command::new("tar").arg("xzf").arg(&fixture).arg("-C").arg(dir).status().unwrap();
    assert!(status.success(), "tar could not unpack {}", fixture.display());
}

fn fixture_visits() -> Vec<Uuid> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format1-datadir.json"))
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["visit_ids"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().parse().unwrap()).collect()
}

fn config(dir: &Path) -> ServerConfig {
    ServerConfig { data_dir: dir.to_path_buf(), policy_file: None, demo: false }
}

fn pre_upgrade_backups(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("backups")) else { return Vec::new() };
    entries.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().contains("pre-upgrade-format1")).collect()
}

#[tokio::test]
async fn a_data_dir_of_the_previous_format_is_backed_up_then_migrated_and_served() {
    let dir = tempfile::tempdir().unwrap();
    unpack_format1(dir.path());
    assert!(pre_upgrade_backups(dir.path()).is_empty());
    {
        let state = app::open(&config(dir.path())).expect("a newer server opens an older data dir");
        let store = state.store.as_ref();
        assert_eq!(store.last_seq().unwrap(), 120, "every change kept");
        for id in fixture_visits() {
            assert!(store.record(EntityKind::Visit, id).unwrap().is_some(), "visit {id} kept");
        }
        let epoch = store.feed_epoch().unwrap();
        assert!(
            epoch.id.is_some() && epoch.accepts_unmarked,
            "phones keep their cursors across the upgrade: {epoch:?}"
        );
        assert_eq!(store.users().unwrap().len(), 55);
    }
    // The backup taken before the migration holds the data dir as it was.
    let backups = pre_upgrade_backups(dir.path());
    assert_eq!(backups.len(), 1, "{backups:?}");
    let m = backup::verify(&backups[0]).unwrap();
    assert_eq!((m.header.store_format, m.last_seq, m.counts["ops"]), (1, 120, 3), "{m:?}");

    // Opened again: already migrated, no second backup, the same feed.
    let again = app::open(&config(dir.path())).unwrap();
    assert_eq!(pre_upgrade_backups(dir.path()).len(), 1);
    assert_eq!(again.store.last_seq().unwrap(), 120);
    drop(again);

    // The old backup restores with today's server: migrated, with a feed no
    // phone's cursor names.
    let into = tempfile::tempdir().unwrap();
    let restored = into.path().join("data");
    backup::restore(&backups[0], &restored).unwrap();
    let store = SledStore::open(&restored.join("store")).unwrap();
    let epoch: FeedEpoch = store.feed_epoch().unwrap();
    assert!(epoch.id.is_some() && !epoch.accepts_unmarked, "{epoch:?}");
    for id in fixture_visits() {
        assert!(store.record(EntityKind::Visit, id).unwrap().is_some());
    }
}

#[tokio::test]
async fn an_older_server_refuses_a_data_dir_of_a_newer_format_clearly() {
    let dir = tempfile::tempdir().unwrap();
    drop(app::open(&config(dir.path())).unwrap());
    {
        // sled lets go of its lock from a background thread.
        let db = (0..100)
            .find_map(|_| {
                sled::open(dir.path().join("store"))
                    .map_err(|_| std::thread::sleep(std::time::Duration::from_millis(20)))
                    .ok()
            })
            .expect("the store opens");
        db.open_tree("meta").unwrap().insert("format", &(STORE_FORMAT + 1).to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let err = format!("{:#}", app::open(&config(dir.path())).err().expect("refused"));
    assert!(err.contains("written by a newer fengqiao-server"), "{err}");
    assert!(err.contains(&format!("store format {}", STORE_FORMAT + 1)), "{err}");
    assert!(err.contains("restore a backup"), "{err}");
}
