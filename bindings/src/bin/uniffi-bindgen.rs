//! `uniffi-bindgen`: generates the Kotlin and Swift bindings from the built
//! library (`generate --library target/<profile>/libfengqiao_bindings.so ...`).
//! Built only with the `cli` feature; see `bindings/build.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
