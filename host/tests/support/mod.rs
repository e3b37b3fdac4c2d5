//! Helpers shared by the host's integration tests.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The echo component (source in `fixtures/echo-guest`).
pub fn echo_wasm() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/echo.wasm")
}

/// The smallest valid component: it exports nothing.
pub const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";
/// The smallest valid core module.
pub const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

/// A fresh directory under the system's temp dir, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "nanohttp-host-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Writes `name` (creating parent directories) and returns its full path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary serving the echo fixture on a free port, its stderr, and its address.
#[cfg(unix)]
pub fn start(
    extra: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStderr>,
    String,
) {
    let echo = echo_wasm();
    let mut args = extra.to_vec();
    args.push(echo.to_str().unwrap());
    spawn(&args)
}

/// `nanohttp ARGS` on a free loopback port, without `RUST_LOG`, stdin or stdout.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nanohttp"));
    command
        .args(["-b", "127.0.0.1:0"])
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// The binary with `args` (its TARGET among them) on a free loopback port, its stderr after
/// the `Listening on` line, and its address; a start that fails panics with its stderr.
pub fn spawn(
    args: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStderr>,
    String,
) {
    let mut child = command(args).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let listening = line.trim_end();
    let addr = listening
        .strip_prefix("Listening on http://")
        .or_else(|| listening.strip_prefix("Listening on https://"));
    let Some(addr) = addr else {
        let _ = child.kill();
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        panic!("{args:?}: did not start: {line}{rest}");
    };
    let addr = addr.to_owned();
    (child, stderr, addr)
}

/// [`start`] with `--admin-bind` on a free port; the last item is the admin address.
#[cfg(unix)]
pub fn start_with_admin(
    extra: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStderr>,
    String,
    String,
) {
    let mut args = vec!["--admin-bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (child, mut stderr, addr) = start(&args);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let admin = line
        .split_whitespace()
        .nth(2)
        .and_then(|url| url.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("unexpected second line: {line:?}"))
        .to_string();
    (child, stderr, addr, admin)
}

#[cfg(unix)]
pub fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Sends the head of a POST with a 10-byte body and waits for `100 Continue`, which comes once
/// the guest reads the body: the request is then in flight.
#[cfg(unix)]
pub fn start_slow_post(addr: &str) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "POST /slow HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let mut reply = Vec::new();
    while !reply.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        stream.read_exact(&mut byte).unwrap();
        reply.push(byte[0]);
    }
    assert_eq!(reply, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream
}

/// Whether new connections get refused within a minute.
#[cfg(unix)]
pub fn eventually_refused(addr: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_err() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// A running `nanohttp`, stopped (killed) on drop.
pub struct Server {
    child: std::process::Child,
    pub addr: String,
}

impl Server {
    /// Starts the binary with `args` on a free loopback port (the original binds `-b<port>`).
    pub fn start(args: &[&str]) -> Self {
        // The embedded demo keeps its tips in a store: an in-memory one, never the user's.
        let mut all = vec!["--kv", "memory:"];
        all.extend_from_slice(args);
        let (child, mut stderr, addr) = spawn(&all);
        // Keep reading stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Self { child, addr }
    }

    /// `GET path`: the status code and the body (chunked framing left in: tests look for text).
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        let status = reply[9..12].parse().unwrap();
        let body = reply
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
            .to_owned();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
