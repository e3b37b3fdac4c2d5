//! {{name}}: a nanohttp application.
//!
//! `cargo test` runs its tests natively; `nanohttp build` builds the component and
//! `nanohttp target/wasm32-wasip2/release/{{crate}}.wasm` serves it on http://127.0.0.1:8080/.

use nanohttp::prelude::*;
use serde::{Deserialize, Serialize};

/// `GET /`, `GET /hello/NAME`, and the `/items` resource.
#[derive(Debug, Default)]
pub struct Root {
    items: Items,
}

#[controller]
impl Root {
    #[text]
    fn index(&self) -> &'static str {
        "Hello from {{name}}!"
    }

    /// `GET /hello/Alice` answers `Hello, Alice!`.
    #[text]
    fn hello(&self, name: String) -> String {
        format!("Hello, {name}!")
    }

    #[child]
    fn items(&self) -> &Items {
        &self.items
    }
}

/// An item, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Item {
    id: u32,
    title: String,
}

/// `GET /items` lists them, `GET /items/ID` shows one (`404` for an unknown ID).
#[derive(Debug, Default)]
struct Items;

#[rest_controller]
impl Items {
    #[json]
    fn get(&self, id: Option<u32>) -> Result<serde_json::Value, HttpStatus> {
        let items = [
            Item { id: 1, title: "Write a controller".into() },
            Item { id: 2, title: "Serve it".into() },
        ];
        let value = match id {
            None => serde_json::to_value(items),
            Some(id) => match items.iter().find(|item| item.id == id) {
                Some(item) => serde_json::to_value(item),
                None => return Err(HttpStatus::not_found().with_reason(format!("No item {id}"))),
            },
        };
        value.map_err(|e| HttpStatus::internal_server_error().with_detail(e.to_string()))
    }
}

impl Application for Root {}

nanohttp::export!(Root);
