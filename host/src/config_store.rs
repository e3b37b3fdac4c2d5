//! `wasi:config/store`, both versions a component built with nanohttp's `config-store`
//! (`@0.2.0-rc.1`) or `config-store-spin` (`@0.2.0-draft-2024-09-27`) feature imports, so
//! those components run here unchanged. The store is empty: this host's settings reach the
//! guest in `NANOHTTP_SETTINGS`, layered by the host, and the store is for platforms that
//! have nothing else (wasmCloud 2's `config`, Spin's variables).

use wasmtime::component::{HasData, Linker};

#[allow(missing_docs, unreachable_pub, clippy::all, reason = "generated code")]
mod rc1 {
    wasmtime::component::bindgen!({
        path: "wit/config/0.2.0-rc.1.wit",
        world: "wasi:config/imports",
    });
}

#[allow(missing_docs, unreachable_pub, clippy::all, reason = "generated code")]
mod spin {
    wasmtime::component::bindgen!({
        path: "wit/config/0.2.0-draft-2024-09-27.wit",
        world: "wasi:config/imports",
    });
}

/// A store with no entries.
struct Empty;

impl HasData for Empty {
    type Data<'a> = Empty;
}

/// Both versions have the same functions: one implementation for each generated trait.
macro_rules! empty_store {
    ($version:ident) => {
        impl $version::wasi::config::store::Host for Empty {
            fn get(
                &mut self,
                _key: String,
            ) -> Result<Option<String>, $version::wasi::config::store::Error> {
                Ok(None)
            }

            fn get_all(
                &mut self,
            ) -> Result<Vec<(String, String)>, $version::wasi::config::store::Error> {
                Ok(Vec::new())
            }
        }
    };
}

empty_store!(rc1);
empty_store!(spin);

/// Adds `wasi:config/store@0.2.0-rc.1` and `@0.2.0-draft-2024-09-27` to the linker.
pub(crate) fn add_to_linker<T: 'static>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    rc1::wasi::config::store::add_to_linker::<T, Empty>(linker, |_| Empty)?;
    spin::wasi::config::store::add_to_linker::<T, Empty>(linker, |_| Empty)?;
    Ok(())
}
