//! How the host's options are declared, and the groups that belong to no feature of their own.
//!
//! Each option is declared once, in its group (with [`group::option_group!`]): its flag, its
//! key in the `host:` section of the settings, its default, its parser and its help. The
//! groups: `limits.rs` (what a request may cost), `runtime.rs` (logs, cache, reloading, mapped
//! directories), `serving.rs` (the admin listener, connections, TLS), `outbound/options.rs` and `kv/options.rs`; `config/host.rs` puts them
//! together and layers the settings under the flags.

pub(crate) mod group;
mod limits;
mod runtime;
mod serving;
pub(crate) mod values;

pub(crate) use limits::Limits;
pub(crate) use runtime::{DirMapping, LogFormat, Runtime};
pub(crate) use serving::Serving;
