//! Identity: password hashes, signed access tokens, rotating refresh tokens.

pub mod keys;
pub mod password;
pub mod ratelimit;
pub mod service;
pub mod tokens;

pub use keys::KeyRing;
pub use service::{AuthError, AuthService};
pub use tokens::{AccessClaims, AUDIENCE, ISSUER};
