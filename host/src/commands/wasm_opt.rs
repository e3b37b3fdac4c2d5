//! `nanohttp build`'s last step: binaryen's `wasm-opt -Os` over the component's main core
//! module, put back in place of the original. Cargo's output is already `opt-level = "s"` with
//! LTO; binaryen still finds about a sixth to cut: `examples/hello` 216.8 → 171.6 KB, the demo
//! 348.0 → 280.8 KB (`bench/size.md`).
//! wasm-opt reads core modules only, so the component is taken apart and put together here;
//! the result is validated, and kept only if valid and smaller. A build without debug
//! information also loses the component's own `component-name` section here (names of its
//! instances and functions, about 7 KB in hello), which cargo's `strip` does not reach: the
//! linker writes it after stripping.

use std::ffi::{OsStr, OsString};
use std::ops::Range;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};

/// The optimisation level: `-Os` is nearly as small as `-Oz` (1 KB more on the demo) and does
/// not give up speed in loops.
const LEVEL: &str = "-Os";

/// The WebAssembly features Rust's `wasm32-wasip2` output uses, named so that any binaryen
/// (108, Debian 12's, onwards) reads the module and emits nothing else: binaryen's defaults
/// differ between versions, and wasmtime refuses what it was not built for (`--all-features`
/// makes binaryen 108 write types wasmtime 48 rejects).
const FEATURES: [&str; 7] = [
    "--mvp-features",
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// The custom section that marks a component this step rewrote, so that running
/// `nanohttp build` again while cargo has nothing to rebuild leaves it alone (wasm-opt over
/// its own output would shave a few more bytes each time, and the "before" size would be
/// wrong).
const MARK: &str = "nanohttp:wasm-opt";

/// What happened to one component.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Rewritten in place: `after` bytes, down from `before`.
    Smaller { before: usize, after: usize },
    /// Rewritten by an earlier run (cargo did not rebuild it since).
    AlreadyDone,
    /// Left as it was: wasm-opt's result was no smaller.
    Unchanged,
    /// No wasm-opt to run.
    NotFound,
}

/// The wasm-opt to run: `$WASM_OPT`, else `wasm-opt` from `PATH`.
pub(super) fn program() -> OsString {
    std::env::var_os("WASM_OPT").unwrap_or_else(|| "wasm-opt".into())
}

/// Optimises the component at `path`, whose bytes are `component`, in place with the wasm-opt
/// `program`.
///
/// # Errors
/// wasm-opt failed, or its module does not make a valid component; the file is then left as
/// it was (and `nanohttp build` says so and goes on).
pub(super) fn optimise(path: &Path, component: &[u8], program: &OsStr) -> anyhow::Result<Outcome> {
    let Some(main) = main_module(component)? else {
        return Ok(Outcome::AlreadyDone);
    };
    let input = path.with_extension("core.wasm");
    let output = path.with_extension("core.opt.wasm");
    std::fs::write(&input, &component[main.clone()])
        .with_context(|| format!("cannot write '{}'", input.display()))?;
    // A build with debug information (a profile with `debug`, or not stripped) keeps it: `-g`
    // makes wasm-opt carry names and DWARF through.
    let keep_debug = has_debug_info(&component[main.clone()]);
    let ran = Command::new(program)
        .arg(LEVEL)
        .args(FEATURES)
        .args(keep_debug.then_some("-g"))
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output();
    let _ = std::fs::remove_file(&input);
    let ran = match ran {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Outcome::NotFound),
        other => other.with_context(|| format!("cannot run {}", program.to_string_lossy()))?,
    };
    let optimised = std::fs::read(&output);
    let _ = std::fs::remove_file(&output);
    if !ran.status.success() {
        let stderr = String::from_utf8_lossy(&ran.stderr);
        let said = match stderr.trim() {
            "" => String::new(),
            text => format!(": {text}"),
        };
        bail!(
            "{} failed ({}){said}",
            program.to_string_lossy(),
            ran.status
        );
    }
    let optimised = optimised.context("wasm-opt wrote no module")?;
    let mut rebuilt = replace_module(component, main, &optimised)?;
    if !keep_debug {
        rebuilt = without_component_names(rebuilt)?;
    }
    rebuilt.extend(custom_section(MARK, LEVEL.as_bytes()));
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&rebuilt)
        .context("the component with wasm-opt's module is not valid")?;
    if rebuilt.len() >= component.len() {
        return Ok(Outcome::Unchanged);
    }
    std::fs::write(path, &rebuilt)
        .with_context(|| format!("cannot write the component '{}'", path.display()))?;
    Ok(Outcome::Smaller {
        before: component.len(),
        after: rebuilt.len(),
    })
}

/// Where the component's main core module is: the largest of its top-level modules (the others
/// are the few hundred bytes of glue that wit-component adds); `None` if it carries [`MARK`].
fn main_module(component: &[u8]) -> anyhow::Result<Option<Range<usize>>> {
    let mut largest: Option<Range<usize>> = None;
    for payload in top_level(component)? {
        match payload {
            wasmparser::Payload::CustomSection(section) if section.name() == MARK => {
                return Ok(None);
            }
            wasmparser::Payload::ModuleSection {
                unchecked_range, ..
            } if largest
                .as_ref()
                .is_none_or(|r| r.len() < unchecked_range.len()) =>
            {
                largest = Some(unchecked_range);
            }
            _ => {}
        }
    }
    largest
        .context("the component holds no core module")
        .map(Some)
}

/// The component's own sections, in order: not those of the modules and components nested in
/// it.
fn top_level(component: &[u8]) -> anyhow::Result<Vec<wasmparser::Payload<'_>>> {
    let mut sections = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        let payload = payload.context("the component does not parse")?;
        let nests = matches!(
            payload,
            wasmparser::Payload::ModuleSection { .. }
                | wasmparser::Payload::ComponentSection { .. }
        );
        match payload {
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            payload if depth == 0 => sections.push(payload),
            _ => {}
        }
        if nests {
            depth += 1;
        }
    }
    Ok(sections)
}

/// Whether a core module has a `name` section or DWARF (`.debug_*` custom sections).
fn has_debug_info(module: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(module)
        .any(|payload| match payload {
            Ok(wasmparser::Payload::CustomSection(section)) => {
                section.name() == "name" || section.name().starts_with(".debug_")
            }
            _ => false,
        })
}

/// A custom section: id 0, its size, the name (size and bytes), the contents.
fn custom_section(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut body = leb128(name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(contents);
    let mut section = vec![0];
    section.extend(leb128(body.len()));
    section.extend(body);
    section
}

/// The component's top-level custom section of names (`wasm-tools` and wasmtime read it for
/// messages and debugging only).
const COMPONENT_NAMES: &str = "component-name";

/// `component` without its top-level [`COMPONENT_NAMES`] section, if it has one.
fn without_component_names(mut component: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    const CUSTOM_SECTION: u8 = 0;
    let names = top_level(&component)?
        .into_iter()
        .find_map(|payload| match payload {
            wasmparser::Payload::CustomSection(section) if section.name() == COMPONENT_NAMES => {
                Some(section.range())
            }
            _ => None,
        });
    if let Some(contents) = names {
        let start = section_start(&component, CUSTOM_SECTION, &contents)
            .context("the names section's header is not where expected")?;
        component.drain(start..contents.end);
    }
    Ok(component)
}

/// Where the section whose contents are at `contents` starts: a section is its id, its size as
/// unsigned LEB128 (the fewest bytes, as wit-component writes it), then its contents.
fn section_start(component: &[u8], id: u8, contents: &Range<usize>) -> Option<usize> {
    let size = leb128(contents.len());
    contents
        .start
        .checked_sub(1 + size.len())
        .filter(|&start| component[start] == id && component[start + 1..contents.start] == size)
}

/// `component` with the module at `range` replaced by `module`.
fn replace_module(component: &[u8], range: Range<usize>, module: &[u8]) -> anyhow::Result<Vec<u8>> {
    const MODULE_SECTION: u8 = 1;
    let header = section_start(component, MODULE_SECTION, &range)
        .context("the module's section header is not where expected")?;
    let mut rebuilt = Vec::with_capacity(component.len());
    rebuilt.extend_from_slice(&component[..header]);
    rebuilt.push(MODULE_SECTION);
    rebuilt.extend(leb128(module.len()));
    rebuilt.extend_from_slice(module);
    rebuilt.extend_from_slice(&component[range.end..]);
    Ok(rebuilt)
}

/// `n` as unsigned LEB128, in as few bytes as it takes.
fn leb128(mut n: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            bytes.push(low);
            return bytes;
        }
        bytes.push(low | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_is_minimal() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [0x7f]);
        assert_eq!(leb128(128), [0x80, 0x01]);
        assert_eq!(leb128(624_485), [0xe5, 0x8e, 0x26]);
    }

    /// A component of one empty core module: the module replaced by a bigger one, the
    /// section's size with it.
    #[test]
    fn replaces_the_module_and_its_size() {
        let module = b"\0asm\x01\0\0\0";
        let mut component = b"\0asm\x0d\0\x01\0".to_vec();
        component.push(1);
        component.push(module.len() as u8);
        component.extend_from_slice(module);
        let range = main_module(&component).unwrap().unwrap();
        assert_eq!(range, 10..18);
        // An empty custom section makes the module 8 bytes longer.
        let mut bigger = module.to_vec();
        bigger.extend(custom_section("notes", b""));
        assert_eq!(bigger[8..], [0, 6, 5, b'n', b'o', b't', b'e', b's']);
        let mut rebuilt = replace_module(&component, range, &bigger).unwrap();
        assert_eq!(rebuilt[8..10], [1, 16]);
        assert_eq!(rebuilt[10..], bigger[..]);
        rebuilt.extend(custom_section(MARK, LEVEL.as_bytes()));
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&rebuilt)
            .unwrap();
        assert_eq!(main_module(&rebuilt).unwrap(), None, "marked as done");
    }

    /// The top-level names go; a nested component's, and other custom sections, stay.
    #[test]
    fn component_names_are_dropped() {
        let mut nested = b"\0asm\x0d\0\x01\0".to_vec();
        nested.extend(custom_section(COMPONENT_NAMES, b"inner"));
        let mut component = b"\0asm\x0d\0\x01\0".to_vec();
        component.extend(custom_section("producers", b""));
        component.extend(custom_section(COMPONENT_NAMES, &[7; 300]));
        component.push(4); // a component section
        component.extend(leb128(nested.len()));
        component.extend_from_slice(&nested);
        let names_section = custom_section(COMPONENT_NAMES, &[7; 300]).len();
        let stripped = without_component_names(component.clone()).unwrap();
        assert_eq!(stripped.len(), component.len() - names_section);
        assert!(stripped.ends_with(&nested));
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&stripped)
            .unwrap();
        assert_eq!(without_component_names(stripped.clone()).unwrap(), stripped);
    }

    #[test]
    fn debug_information_is_seen() {
        let module = b"\0asm\x01\0\0\0".to_vec();
        assert!(!has_debug_info(&module));
        for name in ["name", ".debug_info"] {
            let mut with = module.clone();
            with.extend(custom_section(name, b""));
            assert!(has_debug_info(&with), "{name}");
        }
        let mut other = module;
        other.extend(custom_section("producers", b""));
        assert!(!has_debug_info(&other));
    }

    /// A wasm-opt that fails, or none at all, leaves the file as it was.
    #[test]
    fn a_failing_or_missing_wasm_opt_changes_nothing() {
        let dir = std::env::temp_dir().join(format!("nanohttp-wasm-opt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.wasm");
        let mut component = b"\0asm\x0d\0\x01\0\x01\x08".to_vec();
        component.extend_from_slice(b"\0asm\x01\0\0\0");
        std::fs::write(&path, &component).unwrap();

        let error = optimise(&path, &component, OsStr::new("false")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("false failed (exit status: 1)"),
            "{error:#}"
        );
        let missing = optimise(&path, &component, OsStr::new("/nonexistent/wasm-opt")).unwrap();
        assert_eq!(missing, Outcome::NotFound);
        assert_eq!(std::fs::read(&path).unwrap(), component, "untouched");
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
