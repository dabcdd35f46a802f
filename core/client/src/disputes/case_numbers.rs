//! Case numbers offline: blocks are reserved from the server during sync (see
//! [`crate::case_blocks`]) or ahead of a long trip with
//! [`FieldClient::prepare_case_numbers`], and kept in the phone's store; each
//! report takes the next index of the oldest block, in the transaction that
//! saves the dispute (see [`crate::store::CaseNumberStore`]).

use uuid::Uuid;

use crate::case_blocks::{at_block_cap, left, reserve_one, LOW_WATER};
use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::session::Authed;
use crate::store::CaseClaim;

/// At most this many reservations in one `prepare_case_numbers` call.
const MAX_PREPARE: usize = 100;

/// The case numbers the signed-in user can still give offline, and whether
/// the screen should warn that they run low.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumberStock {
    /// Numbers left in the blocks held on this phone.
    pub left: u64,
    /// Fewer are left than the sync keeps in stock: the user should sync (or
    /// prepare numbers) before going out of coverage.
    pub low: bool,
    /// What the screen shows when `low`, in the core's locale (empty otherwise).
    pub warning: String,
}

/// The stock of `left` numbers as the screen shows it.
pub(crate) fn stock(left: u64) -> CaseNumberStock {
    let low = left < u64::from(LOW_WATER);
    let warning = match (low, left) {
        (false, _) => String::new(),
        (true, 0) => crate::messages::pick(
            "本机已没有离线案件编号：请联网同步后再登记纠纷",
            "No offline case numbers left on this phone: sync before reporting a dispute",
        ),
        (true, n) => crate::messages::pick(
            &format!("本机只剩 {n} 个离线案件编号：请尽快联网同步"),
            &format!("Only {n} offline case numbers left on this phone: sync soon"),
        ),
    };
    CaseNumberStock { left, low, warning }
}

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

    /// The case numbers left offline with the warning when few are (fewer than
    /// the stock the sync keeps). Offline.
    pub fn case_number_stock(&self) -> Result<CaseNumberStock, ClientError> {
        Ok(stock(self.case_numbers_left()?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_below_the_syncs_stock_with_the_count_in_the_warning() {
        let plenty = stock(u64::from(LOW_WATER));
        assert!(!plenty.low && plenty.warning.is_empty());
        let few = stock(3);
        assert!(few.low && few.warning.contains('3'), "{}", few.warning);
        assert!(stock(0).warning.contains("没有"));
    }
}
