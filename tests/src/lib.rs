//! End-to-end test support: a real server on an ephemeral loopback port with a
//! fresh data dir, the demo credentials, and a fault-injecting TCP proxy.

pub mod api;
pub mod crash;
pub mod desk;
pub mod dst;
pub mod moto;
pub mod phone;
pub mod photos;
pub mod proxy;
pub mod server;
pub mod sim;
pub mod tls;
pub mod workbook;

pub use proxy::{FaultMode, FaultProxy};
pub use server::TestServer;
