//! The original nanohttp's CLI tests (`nanohttp/cli/tests/test_cli.py` at 110a8bb), ported to
//! the `nanohttp` binary: one test per original function, named after it. The original names a
//! Python module, file or package as its target; ours is a component file, so those scenarios
//! use the echo fixture component. See `docs/conformance.md`.

mod support;

use std::process::Stdio;

use support::{Scratch, Server, echo_wasm};

/// Whether `nanohttp args` stops with a failure status (within a deadline: one that starts
/// serving instead is stopped, and counts as not failing).
fn fails(args: &[&str]) -> bool {
    // The embedded demo keeps its tips in a store: an in-memory one, never the user's.
    let mut all = vec!["--kv", "memory:"];
    all.extend_from_slice(args);
    let mut child = support::command(&all)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return !status.success();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// The echo fixture copied into a scratch directory, as the original writes its controller file.
fn controller_file() -> (Scratch, String) {
    let dir = Scratch::new();
    let file = dir.write("foo.wasm", std::fs::read(echo_wasm()).unwrap());
    (dir, file)
}

#[test]
fn test_cli_without_arguments() {
    // No target: ours serves the embedded demo, as the original serves its demo controller.
    let server = Server::start(&[]);
    let (status, body) = server.get("/");
    assert_eq!(status, 200);
    assert!(body.len() > 1);
}

#[test]
fn test_cli_with_change_directory_flag() {
    let dir = Scratch::new();
    let server = Server::start(&["-C", dir.path().to_str().unwrap()]);
    let (status, body) = server.get("/");
    assert_eq!(status, 200);
    assert!(body.len() > 1);
}

#[test]
fn test_cli_with_given_module_name() {
    // The original names a module (`foo`) found in `-C`'s directory; ours names a component
    // file there (`foo.wasm`): a relative target is resolved against `-C`.
    let (dir, _) = controller_file();
    let server = Server::start(&["-C", dir.path().to_str().unwrap(), "foo.wasm"]);
    assert_eq!(server.get("/").0, 200);
}

#[test]
fn test_cli_with_change_dir_and_controller_filename() {
    let (dir, _) = controller_file();
    let server = Server::start(&["-C", dir.path().to_str().unwrap(), "foo.wasm"]);
    assert_eq!(server.get("/settings").0, 200);
}

#[test]
fn test_cli_with_static_controller() {
    let dir = Scratch::new();
    dir.write("a", "Hello A");
    let server = Server::start(&["-C", dir.path().to_str().unwrap(), ":Static"]);
    assert_eq!(server.get("/a"), (200, "Hello A".to_owned()));
}

#[test]
fn test_cli_with_config_file_flag() {
    let (dir, file) = controller_file();
    let config = dir.write("config.yml", "debug: false\ngreeting: from-file\n");
    let server = Server::start(&["-c", &config, &file]);
    let (status, body) = server.get("/settings");
    assert_eq!(status, 200);
    assert!(body.contains("\"greeting\":\"from-file\""), "{body}");
}

#[test]
fn test_cli_with_option_flag() {
    let (_dir, file) = controller_file();
    let server = Server::start(&["-o", "debug=false", "-o", "foo=bar", &file]);
    let (status, body) = server.get("/settings");
    assert_eq!(status, 200);
    assert!(body.contains("\"foo\":\"bar\""), "{body}");
}

#[test]
fn test_cli_with_invalid_option_flag() {
    // The original refuses `-o a.b=1` because `a` is not a setting yet; ours lets overrides
    // create keys (an application's settings are its own), and refuses malformed ones.
    let (_dir, file) = controller_file();
    for malformed in ["a..b=1", "a.b"] {
        assert!(fails(&["-o", malformed, &file]), "-o {malformed}");
    }
    let server = Server::start(&["-o", "a.b=1", &file]);
    let (status, body) = server.get("/settings");
    assert_eq!(status, 200);
    assert!(body.contains("\"a\":{\"b\":1}"), "{body}");
}

#[test]
fn test_cli_with_given_filename() {
    let (_dir, file) = controller_file();
    let server = Server::start(&[&file]);
    assert_eq!(server.get("/settings").0, 200);
}

#[test]
fn test_cli_with_given_filename_and_controller_name() {
    // `file.py:Root` picks a controller in a module. A component exports one handler, so there
    // is nothing to pick: a `:Name` suffix is just part of a file name that does not exist.
    let (_dir, file) = controller_file();
    assert!(fails(&[&format!("{file}:Root")]));
}
