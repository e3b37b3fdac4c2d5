//! The `nanohttp` binary: help, version, one-line errors before listening, and a clean stop.

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Output, Stdio};

use support::{CORE_MODULE, EMPTY_COMPONENT, Scratch, echo_wasm};

fn nanohttp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nanohttp"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Fails with exactly `expected` as the one line on stderr, and the given status.
#[track_caller]
fn assert_fails(args: &[&str], status: i32, expected: &str) {
    let output = nanohttp(args);
    assert_eq!(
        output.status.code(),
        Some(status),
        "{args:?}: {}",
        stderr(&output)
    );
    assert_eq!(stderr(&output), format!("{expected}\n"), "{args:?}");
    assert!(output.stdout.is_empty(), "{args:?}");
}

#[test]
fn version() {
    let output = nanohttp(&["-V"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout, format!("nanohttp {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(nanohttp(&["--version"]).stdout, stdout.as_bytes());
}

#[test]
fn help() {
    let output = nanohttp(&["--help"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--config-file <FILE>",
        "--config-directory <DIR>",
        "--bind <{HOST:}PORT>",
        "--directory <DIR>",
        "--option <KEY.PATH=VALUE>",
        "--version",
        "[TARGET]",
        "[default: 127.0.0.1:8080]",
    ] {
        assert!(stdout.contains(flag), "--help lacks {flag}:\n{stdout}");
    }
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let dir = Scratch::new();
    let core = dir.write("core.wasm", CORE_MODULE);
    let garbage = dir.write("garbage.wasm", "<html>");
    let empty = dir.write("empty.wasm", EMPTY_COMPONENT);
    let conf = dir.write("conf.yml", "a: 1\nb: c: d\n");
    let echo = echo_wasm();
    let echo = echo.to_str().unwrap();
    let base = dir.path().to_str().unwrap();

    assert_fails(
        &["missing.wasm"],
        1,
        "error: cannot read component 'missing.wasm': No such file or directory",
    );
    assert_fails(
        &["-C", base, "missing.wasm"],
        1,
        "error: cannot read component 'missing.wasm': No such file or directory",
    );
    assert_fails(
        &[&core],
        1,
        &format!(
            "error: '{core}' is not a WebAssembly component: it is a core WebAssembly module \
             (build it for wasm32-wasip2, or wrap it with `wasm-tools component new`)"
        ),
    );
    assert_fails(
        &[&garbage],
        1,
        &format!(
            "error: '{garbage}' is not a WebAssembly component: not a WebAssembly binary at all"
        ),
    );
    assert_fails(
        &["-C", base, "-c", "missing.yml", echo],
        1,
        "error: cannot read settings file 'missing.yml': No such file or directory",
    );
    assert_fails(
        &["-o", "debug", echo],
        2,
        "error: invalid value 'debug' for '--option <KEY.PATH=VALUE>': expected KEY.PATH=VALUE \
         (no '=' found) (see --help)",
    );
    assert_fails(
        &["-b", "localhost:http", echo],
        2,
        "error: invalid value 'localhost:http' for '--bind <{HOST:}PORT>': 'http' is not a port \
         number (0-65535) (see --help)",
    );
    assert_fails(
        &["--nope", echo],
        2,
        "error: unexpected argument '--nope' found (see --help)",
    );

    // Invalid YAML names the file (as given) and the line.
    let output = nanohttp(&["-C", base, "-c", "conf.yml", echo]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: invalid YAML in 'conf.yml' at line 2 column 5: "),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    drop(conf);

    // Checked by the engine at bind time, still before listening.
    let output = nanohttp(&["-b", "127.0.0.1:0", &empty]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!(
            "error: component '{empty}' does not export wasi:http/incoming-handler@0.2.x"
        )),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn a_port_in_use_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let echo = echo_wasm();
    assert_fails(
        &["-b", &addr, echo.to_str().unwrap()],
        1,
        &format!("error: cannot listen on {addr}: Address already in use"),
    );
}

/// Starts, answers a request, and exits 0 on SIGTERM.
#[cfg(unix)]
#[test]
fn serves_until_sigterm() {
    let echo = echo_wasm();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nanohttp"))
        .args([
            "-b",
            "127.0.0.1:0",
            "-o",
            "greeting=hi",
            echo.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .trim_end()
        .strip_prefix("Listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();

    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /settings HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    // The guest streams, so the body comes chunked; its text is in there whole.
    assert!(reply.contains("\r\ngreeting: hi\n\r\n"), "{reply}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.starts_with("Shutting down"), "{rest}");
}
