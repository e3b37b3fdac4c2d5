//! What is served: a component file, the embedded demo, or the embedded static file server.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bytes::Bytes;

use crate::demo;
use crate::io::io_reason;
use crate::options::DirMapping;

/// The target naming the embedded static file server.
const STATIC_TARGET: &str = ":Static";
/// Where `:Static` maps the served directory: the static server's default root.
const STATIC_ROOT: &str = "/site";

/// The component to serve: where it came from (for messages), its bytes, and the file to
/// watch for `--reload` (`None` for the embedded demo and static file server).
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) wasm: Bytes,
    pub(crate) path: Option<PathBuf>,
}

impl Target {
    /// `demo`, `:Static`, or a component file (read now, resolved with `resolve`, and sniffed:
    /// it must be a WebAssembly component).
    pub(crate) fn select(
        target: &Path,
        resolve: impl Fn(&Path) -> PathBuf,
    ) -> anyhow::Result<Self> {
        if target == Path::new(STATIC_TARGET) {
            let wasm = demo::STATIC_SERVER.context(
                "the static file server was not embedded in this build; pass a .wasm file",
            )?;
            return Ok(Self::embedded(STATIC_TARGET, wasm));
        }
        if target == Path::new("demo") {
            let wasm = demo::COMPONENT
                .context("the demo component was not embedded in this build; pass a .wasm file")?;
            return Ok(Self::embedded("demo", wasm));
        }
        let name = target.display().to_string();
        let path = resolve(target);
        let wasm = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("cannot read component '{name}': {}", io_reason(&e)))?;
        check_is_component(&wasm)
            .map_err(|why| anyhow::anyhow!("'{name}' is not a WebAssembly component: {why}"))?;
        Ok(Self {
            name,
            wasm: wasm.into(),
            path: Some(path),
        })
    }

    fn embedded(name: &str, wasm: &'static [u8]) -> Self {
        Self {
            name: name.into(),
            wasm: Bytes::from_static(wasm),
            path: None,
        }
    }

    /// For `:Static`, the directory it serves (`-C`, else the current one), mapped where the
    /// static server looks; `None` for other targets.
    pub(crate) fn served_directory(
        &self,
        base: Option<&Path>,
    ) -> anyhow::Result<Option<DirMapping>> {
        if self.name != STATIC_TARGET || self.path.is_some() {
            return Ok(None);
        }
        let served = match base {
            Some(base) => base.to_path_buf(),
            None => std::env::current_dir().map_err(|e| {
                anyhow::anyhow!("cannot use the current directory: {}", io_reason(&e))
            })?,
        };
        Ok(Some(DirMapping {
            host: served,
            guest: STATIC_ROOT.into(),
        }))
    }
}

/// Sniffs the binary header: `Err` says why `bytes` is not a component (a core module, not
/// WebAssembly at all, or an unknown version). Cheap, so it runs while parsing arguments.
pub(crate) fn check_is_component(bytes: &[u8]) -> Result<(), String> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
    const COMPONENT: [u8; 4] = [0x0d, 0, 1, 0];
    match (bytes.get(..4), bytes.get(4..8)) {
        (Some(MAGIC), Some(version)) if version == COMPONENT => Ok(()),
        (Some(MAGIC), Some(version)) if version == CORE_MODULE => Err(
            "it is a core WebAssembly module (build it for wasm32-wasip2, or wrap it with \
             `wasm-tools component new`)"
                .into(),
        ),
        (Some(MAGIC), Some(version)) => Err(format!(
            "unsupported WebAssembly binary version 0x{:02x}, layer {}",
            version[0], version[2]
        )),
        _ => Err("not a WebAssembly binary at all".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_table() {
        let cases: [(&[u8], Result<(), &str>); 6] = [
            (b"\0asm\x0d\0\x01\0", Ok(())),
            (b"\0asm\x0d\0\x01\0rest", Ok(())),
            (b"\0asm\x01\0\0\0", Err("it is a core WebAssembly module")),
            (
                b"\0asm\x0e\0\x01\0",
                Err("unsupported WebAssembly binary version 0x0e, layer 1"),
            ),
            (b"\0asm", Err("not a WebAssembly binary at all")),
            (b"(component)", Err("not a WebAssembly binary at all")),
        ];
        for (bytes, expected) in cases {
            match (check_is_component(bytes), expected) {
                (Ok(()), Ok(())) => {}
                (Err(why), Err(prefix)) => assert!(why.starts_with(prefix), "{why}"),
                (got, _) => panic!("{bytes:?}: {got:?}, expected {expected:?}"),
            }
        }
    }
}
