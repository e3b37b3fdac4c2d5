//! Helpers shared by the host's integration tests.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// `nanohttp ARGS` on a free loopback port, with an in-memory key-value store (the embedded
/// demo keeps its tips in one: never the user's), no `RUST_LOG`, and no stdin or stdout.
pub fn serving(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nanohttp"));
    command
        .args(["-b", "127.0.0.1:0", "--kv", "memory:"])
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// A running `nanohttp`, stopped (killed) on drop.
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    /// Starts the binary with `args` on a free loopback port (the original binds `-b<port>`).
    pub fn start(args: &[&str]) -> Self {
        let mut child = serving(args).stderr(Stdio::piped()).spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let Some(addr) = line.trim_end().strip_prefix("Listening on http://") else {
            let _ = child.kill();
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            panic!("{args:?}: did not start: {line}{rest}");
        };
        let addr = addr.to_owned();
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
