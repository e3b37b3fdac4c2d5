//! Command lines and settings files, parsed into a [`Config`].

use super::*;
use crate::demo;

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_yaml_ng::Value;

/// A fresh directory under the system's temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "nanohttp-config-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The smallest valid component: magic, version 0x0d, layer 1.
const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";
const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

fn parse(args: &[&str]) -> anyhow::Result<Config> {
    Config::from_args(std::iter::once("nanohttp").chain(args.iter().copied()))
}

fn error(args: &[&str]) -> String {
    format!("{:#}", parse(args).expect_err("should be refused"))
}

fn settings(config: &Config) -> Value {
    serde_yaml_ng::from_str(config.settings_json()).unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap()
}

#[test]
fn bind_table() {
    let cases = [
        ("8080", "127.0.0.1:8080"),
        ("0", "127.0.0.1:0"),
        ("127.0.0.1:9000", "127.0.0.1:9000"),
        ("0.0.0.0:8080", "0.0.0.0:8080"),
        ("[::1]:8080", "[::1]:8080"),
        ("[::]:80", "[::]:80"),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_bind(text), Ok(expected.parse().unwrap()), "-b {text}");
    }
    let resolved = parse_bind("localhost:8080").unwrap();
    assert!(resolved.ip().is_loopback(), "{resolved}");
    assert_eq!(resolved.port(), 8080);
}

#[test]
fn bind_errors() {
    let cases = [
        ("", "expected PORT or HOST:PORT"),
        ("abc", "expected PORT or HOST:PORT"),
        ("70000", "expected PORT or HOST:PORT"),
        (":8080", "expected PORT or HOST:PORT (the host is empty)"),
        ("localhost:http", "'http' is not a port number (0-65535)"),
        ("127.0.0.1:70000", "'70000' is not a port number (0-65535)"),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_bind(text), Err(expected.to_string()), "-b {text}");
    }
}

#[test]
fn defaults() {
    let dir = Scratch::new();
    let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
    let config = parse(&[&wasm]).unwrap();
    assert_eq!(config.bind_addr(), "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.settings_json(), "{}");
    assert_eq!(config.target_name(), wasm);
    assert_eq!(&config.target.wasm[..], EMPTY_COMPONENT);
}

#[test]
fn layers_merge_in_order_files_then_directories_then_options() {
    let dir = Scratch::new();
    let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
    let first = dir.write(
        "first.yml",
        "debug: false\ndb:\n  host: a\n  port: 1\nname: first\n",
    );
    let second = dir.write("second.yaml", "db:\n  port: 2\n");
    dir.write("conf.d/20-b.yaml", "name: dir-b\nb: 1\n");
    dir.write("conf.d/10-a.yml", "name: dir-a\na: 1\n");
    dir.write("conf.d/30-ignored.txt", "name: ignored\n");
    dir.write("conf.d/nested/40.yml", "name: nested\n");
    let conf_d = dir.path("conf.d");
    // Options come last even when given first; directories come after every file.
    let config = parse(&[
        "-o",
        "db.user=me",
        "-d",
        &conf_d,
        "-c",
        &first,
        "-c",
        &second,
        "-o",
        "debug=true",
        &wasm,
    ])
    .unwrap();
    assert_eq!(
        settings(&config),
        yaml("{debug: true, db: {host: a, port: 2, user: me}, name: dir-b, a: 1, b: 1}")
    );
}

#[test]
fn last_bind_wins() {
    let dir = Scratch::new();
    let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
    let config = parse(&["-b", "8000", "-b", "[::1]:9000", &wasm]).unwrap();
    assert_eq!(config.bind_addr(), "[::1]:9000".parse().unwrap());
}

#[test]
fn directory_option_resolves_relative_paths() {
    let dir = Scratch::new();
    dir.write("app.wasm", EMPTY_COMPONENT);
    dir.write("conf/app.yml", "from: file\n");
    dir.write("conf.d/x.yml", "dir: yes\n");
    let base = dir.path("");
    let config = parse(&[
        "-C",
        &base,
        "-c",
        "conf/app.yml",
        "-d",
        "conf.d",
        "app.wasm",
    ])
    .unwrap();
    assert_eq!(settings(&config), yaml("{from: file, dir: yes}"));
    assert_eq!(config.target_name(), "app.wasm");
}

#[test]
fn bad_arguments() {
    let dir = Scratch::new();
    let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
    let core = dir.write("core.wasm", CORE_MODULE);
    let garbage = dir.write("garbage.wasm", "hello, world");
    let empty = dir.write("empty.wasm", "");
    let future = dir.write("future.wasm", b"\0asm\x0e\0\x01\0");
    let bad_yaml = dir.write("bad.yml", "a: 1\nb: c: d\n");
    let list_yaml = dir.write("list.yml", "- 1\n");
    dir.write("bad.d/x.yml", "key: [unclosed\n");
    let bad_dir = dir.path("bad.d");
    let missing = dir.path("missing.wasm");
    let missing_yml = dir.path("missing.yml");
    let missing_dir = dir.path("missing.d");
    let itself = dir.path("");

    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec![&missing],
            format!("cannot read component '{missing}': No such file or directory"),
        ),
        (
            vec![&itself],
            format!("cannot read component '{itself}': Is a directory"),
        ),
        (
            vec![&core],
            format!(
                "'{core}' is not a WebAssembly component: it is a core WebAssembly module \
                 (build it for wasm32-wasip2, or wrap it with `wasm-tools component new`)"
            ),
        ),
        (
            vec![&garbage],
            format!("'{garbage}' is not a WebAssembly component: not a WebAssembly binary at all"),
        ),
        (
            vec![&empty],
            format!("'{empty}' is not a WebAssembly component: not a WebAssembly binary at all"),
        ),
        (
            vec![&future],
            format!(
                "'{future}' is not a WebAssembly component: unsupported WebAssembly binary \
                 version 0x0e, layer 1"
            ),
        ),
        (
            vec!["-c", &missing_yml, &wasm],
            format!("cannot read settings file '{missing_yml}': No such file or directory"),
        ),
        (
            vec!["-d", &missing_dir, &wasm],
            format!("cannot read settings directory '{missing_dir}': No such file or directory"),
        ),
        (
            vec!["-c", &list_yaml, &wasm],
            format!(
                "settings in '{list_yaml}' must be a mapping of keys to values, not a sequence"
            ),
        ),
        (
            vec!["-C", &missing_dir, &wasm],
            format!("cannot use directory '{missing_dir}': No such file or directory"),
        ),
        (
            vec!["-C", &wasm, &wasm],
            format!("cannot use directory '{wasm}': not a directory"),
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(error(&args), expected, "{args:?}");
    }

    let yaml_error = error(&["-c", &bad_yaml, &wasm]);
    assert!(
        yaml_error.starts_with(&format!(
            "invalid YAML in '{bad_yaml}' at line 2 column 5: "
        )),
        "{yaml_error}"
    );
    let dir_error = error(&["-d", &bad_dir, &wasm]);
    assert!(
        dir_error.starts_with(&format!("invalid YAML in '{bad_dir}/x.yml' at line ")),
        "{dir_error}"
    );
}

#[test]
fn clap_errors() {
    let dir = Scratch::new();
    let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
    let cases = [
        (
            vec!["-o", "debug", wasm.as_str()],
            "expected KEY.PATH=VALUE (no '=' found)",
        ),
        (
            vec!["-o", "=1", wasm.as_str()],
            "a key or one of its dotted parts is empty",
        ),
        (
            vec!["-b", "nope", wasm.as_str()],
            "expected PORT or HOST:PORT",
        ),
        (
            vec!["--frobnicate", wasm.as_str()],
            "unexpected argument '--frobnicate'",
        ),
        (vec![wasm.as_str(), wasm.as_str()], "unexpected argument"),
        (vec!["-c"], "a value is required for '--config-file <FILE>'"),
    ];
    for (args, expected) in cases {
        let error = parse(&args).unwrap_err();
        let clap = error.downcast_ref::<clap::Error>().expect("a clap error");
        assert!(clap.to_string().contains(expected), "{args:?}: {clap}");
    }
}

#[test]
fn help_and_version_are_clap_errors_of_their_own_kind() {
    for (flag, kind) in [
        ("--help", clap::error::ErrorKind::DisplayHelp),
        ("-h", clap::error::ErrorKind::DisplayHelp),
        ("--version", clap::error::ErrorKind::DisplayVersion),
        ("-V", clap::error::ErrorKind::DisplayVersion),
    ] {
        let error = parse(&[flag]).unwrap_err();
        assert_eq!(
            error.downcast_ref::<clap::Error>().unwrap().kind(),
            kind,
            "{flag}"
        );
    }
}

#[test]
fn demo_target() {
    match (parse(&["demo"]), demo::COMPONENT) {
        (Ok(config), Some(_)) => assert_eq!(config.target_name(), "demo"),
        (Err(error), None) => assert_eq!(
            format!("{error:#}"),
            "the demo component was not embedded in this build; pass a .wasm file"
        ),
        (result, embedded) => panic!("{result:?} with demo embedded: {}", embedded.is_some()),
    }
    // No target at all means the demo, as the original's default application.
    assert_eq!(parse(&[]).is_ok(), demo::COMPONENT.is_some());
}

#[test]
fn dir_mappings() {
    let dir = Scratch::new();
    let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
    dir.write("public/index.html", "hi");
    dir.write("data/x", "x");
    let base = dir.path("");
    let public = dir.path("public");
    let data = dir.path("data");
    dir.write(
        "host.yml",
        "host: {dir: ['data::/site', 'public::/from-settings']}\n",
    );
    let config = parse(&[
        "--dir",
        "public",
        "-C",
        &base,
        "--dir",
        &format!("{data}::/data"),
        "-c",
        "host.yml",
        "--dir",
        "public::/site",
        &wasm,
    ])
    .unwrap();
    let mapping = |host: &str, guest: &str| DirMapping {
        host: PathBuf::from(host),
        guest: guest.into(),
    };
    // Settings first, then flags; the flag's /site replaces the settings' one.
    assert_eq!(
        config.host.runtime.dir,
        [
            mapping(&public, "/from-settings"),
            mapping(&public, "public"),
            mapping(&data, "/data"),
            mapping(&public, "/site"),
        ]
    );
    // The `host:` section is the runner's: guests never see it.
    assert_eq!(settings(&config), yaml("{}"));
}

#[test]
fn dir_errors() {
    let dir = Scratch::new();
    let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
    let missing = dir.path("missing");
    let base = dir.path("");
    let option = format!("host.dir={missing}");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--dir", &missing, &wasm],
            format!("cannot map directory '{missing}': No such file or directory"),
        ),
        (
            vec!["-C", &base, "--dir", "app.wasm::/app", &wasm],
            format!(
                "cannot map directory '{}': not a directory",
                dir.path("app.wasm")
            ),
        ),
        (
            vec!["-o", &option, &wasm],
            format!("cannot map directory '{missing}': No such file or directory"),
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(error(&args), expected, "{args:?}");
    }
    let clap = parse(&["--dir", "::/site", &wasm]).unwrap_err();
    assert!(
        clap.downcast_ref::<clap::Error>()
            .unwrap()
            .to_string()
            .contains("'::/site' is not HOST_PATH[::GUEST_PATH] (a path is empty)"),
        "{clap}"
    );
}

#[test]
fn static_target_maps_the_directory_at_site() {
    let dir = Scratch::new();
    let base = dir.path("");
    match (parse(&["-C", &base, ":Static"]), demo::STATIC_SERVER) {
        (Ok(config), Some(_)) => {
            assert_eq!(config.target_name(), ":Static");
            assert_eq!(
                config.host.runtime.dir,
                [DirMapping {
                    host: PathBuf::from(&base),
                    guest: "/site".into(),
                }]
            );
            let here = parse(&[":Static"]).unwrap();
            assert_eq!(
                here.host.runtime.dir[0].host,
                std::env::current_dir().unwrap()
            );
            assert_eq!(
                error(&[":Static", "--reload"]),
                "--reload needs a component file to watch, not the embedded :Static"
            );
        }
        (Err(error), None) => assert_eq!(
            format!("{error:#}"),
            "the static file server was not embedded in this build; pass a .wasm file"
        ),
        (result, embedded) => panic!("{result:?} with it embedded: {}", embedded.is_some()),
    }
}
