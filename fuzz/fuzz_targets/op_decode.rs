//! Push-body decoding as the server does it: bytes → `PushRequest` → each op →
//! `OpEnvelope`. Must never panic; a decoded op must survive a JSON round trip
//! unchanged (what the server stores is what the phone meant).
#![no_main]

use fengqiao_domain::wire::{OpEnvelope, PushRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A single op on its own, as the phone's queue stores it.
    if let Ok(op) = serde_json::from_slice::<OpEnvelope>(data) {
        roundtrip(&op);
    }
    if let Ok(req) = serde_json::from_slice::<PushRequest>(data) {
        for raw in req.ops {
            if let Ok(op) = serde_json::from_value::<OpEnvelope>(raw) {
                roundtrip(&op);
            }
        }
    }
});

fn roundtrip(op: &OpEnvelope) {
    let text = serde_json::to_string(op).expect("an op serialises");
    let again: OpEnvelope = serde_json::from_str(&text).expect("a serialised op decodes");
    assert_eq!(&again, op, "round trip changed the op");
    let _ = op.op.record_ref();
    let _ = op.op.kind_name();
}
