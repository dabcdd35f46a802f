//! Case numbers offline: blocks are reserved from the server during sync (see
//! [`crate::case_blocks`]) or ahead of a long trip with
//! [`FieldClient::prepare_case_numbers`], and kept in the phone's store; each
//! report takes the next index of the oldest block, in the transaction that
//! saves the dispute (see [`crate::store::CaseNumberStore`]).

use uuid::Uuid;

use crate::case_blocks::{at_block_cap, left, reserve_one};
use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::session::Authed;
use crate::store::CaseClaim;

/// At most this many reservations in one `prepare_case_numbers` call.
const MAX_PREPARE: usize = 100;

impl FieldClient {
    /// The next free case number of the user's oldest block.
    pub(crate) fn next_case_claim(&self, user: Uuid) -> Result<CaseClaim, Error> {
        let blocks = self.store.case_blocks(user)?;
        let b = blocks.first().ok_or(Error::NoCaseNumbers)?;
        Ok(CaseClaim { owner: user, year: b.year, block: b.block, index: b.next })
    }

    /// How many case numbers the signed-in user can still give offline.
    pub fn case_numbers_left(&self) -> Result<u64, ClientError> {
        let run = || -> Result<u64, Error> {
            let user = self.session()?.user.id;
            Ok(left(&self.store.case_blocks(user)?))
        };
        Ok(run()?)
    }

    /// Reserves blocks until at least `at_least` case numbers are held (e.g.
    /// before days out of coverage; `sync` keeps a smaller stock by itself), or
    /// until the county's cap on outstanding blocks is reached (then fewer are
    /// held: not an error). Returns the numbers held.
    pub async fn prepare_case_numbers(&self, at_least: u32) -> Result<u64, ClientError> {
        let _net = self.net.lock().await;
        let run = async {
            let ctx = self.ctx(None);
            let mut auth = Authed::begin(&ctx)?;
            let user = auth.user_id();
            for _ in 0..MAX_PREPARE {
                if left(&self.store.case_blocks(user)?) >= at_least as u64 {
                    break;
                }
                match reserve_one(&ctx, &mut auth, user).await {
                    Err(e) if at_block_cap(&e) => break,
                    r => r?,
                }
            }
            Ok::<u64, Error>(left(&self.store.case_blocks(user)?))
        };
        Ok(run.await?)
    }
}
