//! Pulled data: a page of the server's changes applied over the synced
//! records (a reset page first drops every synced record), and the pulled data
//! dropped to start over. Pending records are never touched.

use fengqiao_domain::wire::ChangeAction;
use sled::Transactional;
use uuid::Uuid;

use super::super::{change_key, PullState, PulledPage, RecordState, StoreResult, STORE_FORMAT_VERSION};
use super::{tx_err, RecordValue, SledClientStore, Versioned, K_PULL, T_META, T_RECORDS};

impl SledClientStore {
    pub(super) fn apply_page(&self, user: Uuid, page: &PulledPage) -> StoreResult<()> {
        let mut puts = Vec::with_capacity(page.changes.len());
        for change in &page.changes {
            let key = self.rk(&change_key(change));
            match (change.action, &change.record) {
                (ChangeAction::Put, Some(record)) => {
                    let v =
                        RecordValue { fv: STORE_FORMAT_VERSION, record: record.clone(), state: RecordState::Synced };
                    puts.push((key, Some(self.seal(T_RECORDS, &key, &v)?)));
                }
                (ChangeAction::Put, None) => {}
                (ChangeAction::Drop, _) => puts.push((key, None)),
            }
        }
        let _w = self.write()?;
        let prev = self.meta_value::<Versioned<PullState>>("pull state", K_PULL)?.map(|v| v.value);
        let state = PullState::after(prev.as_ref(), user, page);
        let pull = self.seal(T_META, K_PULL, &Versioned { fv: STORE_FORMAT_VERSION, value: state })?;
        let reset_keys = if page.reset { self.synced_keys()? } else { Vec::new() };
        (&self.records, &self.meta)
            .transaction(|(records, meta)| {
                self.tx_drop_synced(records, &reset_keys)?;
                for (key, val) in &puts {
                    match val {
                        Some(v) => records.insert(key, v.as_slice())?,
                        None => records.remove(key)?,
                    };
                }
                meta.insert(K_PULL, pull.as_slice())?;
                Ok(())
            })
            .map_err(tx_err)?;
        self.flush()
    }

    pub(super) fn drop_pulled(&self) -> StoreResult<()> {
        let _w = self.write()?;
        let keys = self.synced_keys()?;
        (&self.records, &self.meta)
            .transaction(|(records, meta)| {
                self.tx_drop_synced(records, &keys)?;
                meta.remove(K_PULL)?;
                Ok(())
            })
            .map_err(tx_err)?;
        self.flush()
    }
}
