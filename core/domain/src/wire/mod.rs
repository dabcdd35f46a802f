//! What crosses the network: operations and their envelopes, push and pull
//! bodies and answers, the checks of an op as a whole ([`op_validate`]) and the
//! stable refusal codes ([`rejection`]).

// The folder's main file keeps the name of its public path, `crate::wire`.
#[allow(clippy::module_inception)]
mod wire;

pub mod op_validate;
pub mod rejection;

pub use self::wire::*;
