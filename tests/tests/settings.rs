//! Settings layers through the host flags (`cases/settings.rs`). The components are
//! WASI 0.2 ones; `p3.rs` runs the same cases with their WASI 0.3 builds.

use nanohttp_e2e::p2 as wasi;

#[path = "cases/settings.rs"]
mod settings;

/// `examples/config` built with a `wasi:config/store` feature runs on this host too: the host
/// offers both versions of the interface, empty, and its settings still arrive in
/// `NANOHTTP_SETTINGS` (`portability.rs` fills the store on `wasmtime serve`).
#[test]
fn config_store_builds_take_the_host_settings() {
    use nanohttp_e2e::{client, config_store, serve};
    for component in [config_store::config(), config_store::config_spin()] {
        let server = serve(&component, &["-o", "app.page_size=20", "-o", "debug=true"]);
        let mut response = client().get(server.url("/settings")).call().unwrap();
        assert_eq!(response.status(), 200, "{}", component.display());
        let settings: serde_json::Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(
            settings["app"],
            serde_json::json!({"name": "config-example", "page_size": 20}),
            "{}",
            component.display()
        );
        assert_eq!(settings["debug"], true);
    }
}
