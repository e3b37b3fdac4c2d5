//! `nanohttp new` and `nanohttp build`, as a new user runs them: an application created in a
//! directory outside this workspace, its own test command, its build, and the host serving the
//! component it built.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Scratch, Server};

fn nanohttp(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nanohttp"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The framework crate of this checkout, which the new application depends on by path (the
/// published crate would need the network).
fn guest_crate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest")
}

/// Where the new application builds: inside this workspace's target directory, so a second run
/// is incremental, yet not the workspace's own build (it is another workspace).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/new-project")
}

/// `cargo ARGS` in the application's directory, as its user would run it.
fn cargo(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        // The workspace's own build settings must not leak into the user's build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .unwrap()
}

#[test]
fn bad_names_and_existing_directories_are_refused() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    for name in ["2fast", "my app", "../escape"] {
        let output = nanohttp(&["new", name], dir);
        assert_eq!(output.status.code(), Some(1), "{name}");
        let message = text(&output.stderr);
        assert!(
            message.starts_with(&format!("error: '{name}' is not an application name")),
            "{message}"
        );
    }
    std::fs::create_dir(dir.join("taken")).unwrap();
    let output = nanohttp(&["new", "taken"], dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("it exists already"));
    let output = nanohttp(&["new"], dir);
    assert_eq!(output.status.code(), Some(2), "a missing NAME is bad usage");
}

#[test]
fn a_new_application_tests_builds_and_serves_on_its_own() {
    let scratch = Scratch::new();
    let guest = guest_crate();
    let created = nanohttp(
        &["new", "my-app", "--path", guest.to_str().unwrap()],
        scratch.path(),
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(
        text(&created.stderr).contains("cargo test"),
        "{}",
        text(&created.stderr)
    );
    let app = scratch.path().join("my-app");
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "tests/app.rs",
        "README.md",
        ".gitignore",
    ] {
        assert!(app.join(file).is_file(), "{file} was not written");
    }
    let manifest = std::fs::read_to_string(app.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("nanohttp = { path = \"/"), "{manifest}");

    // Its own test command.
    let tested = cargo(&["test"], &app);
    let stderr = text(&tested.stderr);
    assert!(tested.status.success(), "cargo test failed:\n{stderr}");
    // Its private controllers are reached through `export!` alone: no dead-code warnings.
    assert!(!stderr.contains("warning"), "cargo test warned:\n{stderr}");
    assert!(
        text(&tested.stdout).contains("test result: ok. 3 passed"),
        "{}",
        text(&tested.stdout)
    );

    // Its build: the component's path and size on stdout.
    let built = Command::new(env!("CARGO_BIN_EXE_nanohttp"))
        .arg("build")
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    let stderr = text(&built.stderr);
    assert!(built.status.success(), "nanohttp build failed:\n{stderr}");
    assert!(!stderr.contains("warning"), "the build warned:\n{stderr}");
    let stdout = text(&built.stdout);
    let wasm = stdout
        .split_once(" (")
        .map(|(path, _)| PathBuf::from(path))
        .unwrap_or_else(|| panic!("no component path in: {stdout}"));
    assert!(
        wasm.ends_with("wasm32-wasip2/release/my_app.wasm"),
        "{stdout}"
    );
    // Through binaryen's wasm-opt when it is installed (`.ci/run` installs it), else a hint.
    let wasm_opt = Command::new("wasm-opt")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    let expected = match wasm_opt {
        true => " KB from cargo, then wasm-opt)",
        false => "wasm-opt not found: install binaryen to make it about a sixth smaller)",
    };
    assert!(stdout.trim_end().ends_with(expected), "{stdout}");

    // And the host serves what it built.
    let server = Server::start(&[wasm.to_str().unwrap()]);
    assert_eq!(server.get("/"), (200, "Hello from my-app!".into()));
    assert_eq!(server.get("/hello/Bob"), (200, "Hello, Bob!".into()));
    let (status, body) = server.get("/items/2");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"id":2,"title":"Serve it"}"#)
    );
    assert_eq!(server.get("/items/9").0, 404);
    drop(server);

    // The same source as a WASI 0.3 component, served the same.
    let built = Command::new(env!("CARGO_BIN_EXE_nanohttp"))
        .args(["build", "--p3"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    let stderr = text(&built.stderr);
    assert!(
        built.status.success(),
        "nanohttp build --p3 failed:\n{stderr}"
    );
    assert!(!stderr.contains("warning"), "the build warned:\n{stderr}");
    let stdout = text(&built.stdout);
    assert!(stdout.contains(" (WASI 0.3, "), "{stdout}");
    assert!(stdout.trim_end().ends_with(expected), "{stdout}");
    let exports = |wasm: &[u8], name: &[u8]| wasm.windows(name.len()).any(|w| w == name);
    let component = std::fs::read(&wasm).unwrap();
    assert!(exports(&component, b"wasi:http/handler@0.3.0"));
    assert!(!exports(&component, b"wasi:http/incoming-handler"));
    let server = Server::start(&[wasm.to_str().unwrap()]);
    assert_eq!(server.get("/hello/Bob"), (200, "Hello, Bob!".into()));
    assert_eq!(server.get("/items/9").0, 404);
}
