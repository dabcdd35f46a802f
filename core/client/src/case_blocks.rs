//! Case-number blocks from the server: reserving one and keeping the
//! signed-in user's stock topped up, the step `sync` runs after its pull.
//! Taking a number from a held block is the dispute report's (see
//! `disputes/case_numbers.rs`).

use fengqiao_domain::permissions::{roles_for, Action};
use uuid::Uuid;

use crate::error::Error;
use crate::session::{Authed, Ctx};
use crate::store::{HeldCaseBlock, StoredSession};

/// Reserve another block when fewer numbers than this are left.
pub(crate) const LOW_WATER: u32 = 20;
/// Blocks kept untouched beside the one in use.
pub(crate) const SPARE_BLOCKS: usize = 1;
/// At most this many reservations in one sync.
const MAX_PER_SYNC: usize = 5;
/// The server's answer when the user holds as many outstanding blocks as the
/// county allows (`disputes.max_open_case_blocks`).
const TOO_MANY_BLOCKS: &str = "too_many_blocks";

/// Whether `e` says the user already holds as many blocks as allowed: not a
/// failure for a top-up, which then keeps using the numbers it has.
pub(crate) fn at_block_cap(e: &Error) -> bool {
    matches!(e, Error::Refused { status: 409, body } if body.code == TOO_MANY_BLOCKS)
}

/// Whether the user has a role that reports disputes.
fn reports_disputes(session: &StoredSession) -> bool {
    session.user.roles.iter().any(|g| roles_for(Action::HandleDispute).contains(&g.grant.role))
}

pub(crate) fn left(blocks: &[HeldCaseBlock]) -> u64 {
    blocks.iter().map(|b| b.remaining() as u64).sum()
}

/// Whether the held blocks are below the sync's target.
fn wants_more(blocks: &[HeldCaseBlock]) -> bool {
    let untouched = blocks.iter().filter(|b| b.next == 0).count();
    left(blocks) < LOW_WATER as u64 || untouched < SPARE_BLOCKS
}

/// Reserves one block for `user` and keeps it.
pub(crate) async fn reserve_one(ctx: &Ctx<'_>, auth: &mut Authed<'_>, user: Uuid) -> Result<(), Error> {
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
