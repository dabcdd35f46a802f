//! Deliberate bugs, compiled only with the test-only `sim-bugs` feature and
//! each off until a test switches it on: the deterministic simulator
//! (`fengqiao-dst`) must find each within its seeds, which shows it can fail.

use std::sync::atomic::AtomicBool;

/// On: a pushed op is decided again even when its id already has an answer
/// (the op id check of `store::batch::apply_ops` skipped), so an op re-sent
/// after a lost answer is applied twice.
pub static SKIP_OP_ID_CHECK: AtomicBool = AtomicBool::new(false);
