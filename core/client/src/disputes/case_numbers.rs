//! Case numbers offline: blocks are reserved from the server during sync (or
//! ahead of a long trip with [`FieldClient::prepare_case_numbers`]) and kept in
//! the phone's store; each report takes the next index of the oldest block, in
//! the transaction that saves the dispute (see [`crate::store::CaseNumberStore`]).

use fengqiao_domain::permissions::{roles_for, Action};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::session::{Authed, Ctx};
use crate::store::{CaseClaim, HeldCaseBlock, StoredSession};

/// Reserve another block when fewer numbers than this are left.
pub(crate) const LOW_WATER: u32 = 20;
/// Blocks kept untouched beside the one in use.
pub(crate) const SPARE_BLOCKS: usize = 1;
/// At most this many reservations in one sync.
const MAX_PER_SYNC: usize = 5;
/// At most this many reservations in one `prepare_case_numbers` call.
const MAX_PREPARE: usize = 100;
/// The server's answer when the user holds as many outstanding blocks as the
/// county allows (`disputes.max_open_case_blocks`).
const TOO_MANY_BLOCKS: &str = "too_many_blocks";

/// Whether `e` says the user already holds as many blocks as allowed: not a
/// failure for a top-up, which then keeps using the numbers it has.
fn at_block_cap(e: &Error) -> bool {
    matches!(e, Error::Refused { status: 409, body } if body.code == TOO_MANY_BLOCKS)
}

/// Whether the user has a role that reports disputes.
fn reports_disputes(session: &StoredSession) -> bool {
    session.user.roles.iter().any(|g| roles_for(Action::HandleDispute).contains(&g.grant.role))
}

fn left(blocks: &[HeldCaseBlock]) -> u64 {
    blocks.iter().map(|b| b.remaining() as u64).sum()
}

/// Whether the held blocks are below the sync's target.
fn wants_more(blocks: &[HeldCaseBlock]) -> bool {
    let untouched = blocks.iter().filter(|b| b.next == 0).count();
    left(blocks) < LOW_WATER as u64 || untouched < SPARE_BLOCKS
}

/// Reserves one block for `user` and keeps it.
async fn reserve_one(ctx: &Ctx<'_>, auth: &mut Authed<'_>, user: Uuid) -> Result<(), Error> {
    let api = ctx.api;
    let b = auth.call(move |tok| async move { api.reserve_case_block(&tok).await }).await?;
    let held = HeldCaseBlock { owner: user, year: b.year, block: b.block, size: b.size, next: 0 };
    ctx.store.add_case_block(&held)?;
    tracing::info!(year = b.year, block = b.block, "case-number block reserved");
    Ok(())
}

/// The sync step: tops up the user's blocks (one spare block kept, another
/// reserved when fewer than [`LOW_WATER`] numbers remain). Best effort: a
/// failure here is logged and leaves the sync's result alone (reporting fails
/// with `no_case_numbers` only once every number is spent).
pub(crate) async fn top_up(ctx: &Ctx<'_>, auth: &mut Authed<'_>, user: Uuid) -> Result<(), Error> {
    match ctx.store.load_session()? {
        Some(s) if s.user.id == user && reports_disputes(&s) => {}
        _ => return Ok(()),
    }
    for _ in 0..MAX_PER_SYNC {
        if !wants_more(&ctx.store.case_blocks(user)?) {
            break;
        }
        match reserve_one(ctx, auth, user).await {
            Ok(()) => {}
            Err(Error::Cancelled) => return Err(Error::Cancelled),
            Err(e) if at_block_cap(&e) => {
                tracing::info!("as many case-number blocks held as the county allows: no top-up");
                break;
            }
            Err(e) => {
                let transient = matches!(e, Error::Network(_) | Error::Server { .. } | Error::RateLimited);
                tracing::warn!(transient, "could not reserve case numbers");
                break;
            }
        }
    }
    Ok(())
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

    fn block(next: u32) -> HeldCaseBlock {
        HeldCaseBlock { owner: Uuid::nil(), year: 2026, block: 1, size: 100, next }
    }

    #[test]
    fn a_spare_block_is_kept_and_a_low_stock_topped_up() {
        assert!(wants_more(&[]), "none held");
        assert!(!wants_more(&[block(0)]), "one untouched block");
        assert!(wants_more(&[block(1)]), "in use, no spare");
        assert!(!wants_more(&[block(50), block(0)]));
        assert!(
            wants_more(&[HeldCaseBlock { size: 10, ..block(0) }]),
            "a small untouched block is below the low water"
        );
        assert_eq!(left(&[block(90), block(0)]), 110);
    }
}
