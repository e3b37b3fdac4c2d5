//! Helpers for the end-to-end tests: the example components (built for `wasm32-wasip2` by this
//! crate's build script), a host serving one of them on `127.0.0.1:0`, and an HTTP client that
//! reports every status as it is.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub mod upstream;

pub use nanohttp_host::{BackgroundServer, Config};

pub mod services;

/// The components built as WASI 0.2 ones (`wasi:http/incoming-handler@0.2`), the default.
pub mod p2 {
    use std::path::PathBuf;

    /// The component built from `examples/<name>` (package `nanohttp-<name>`).
    pub fn example(name: &str) -> PathBuf {
        component(&format!("nanohttp-{name}"))
    }

    /// The component built from the workspace package `package` (an example or a fixture under
    /// `tests/fixtures/`).
    ///
    /// # Panics
    /// If the build script did not build it: it builds every package in those two directories.
    pub fn component(package: &str) -> PathBuf {
        super::built(env!("NANOHTTP_COMPONENTS_DIR"), package)
    }
}

/// The same packages built as WASI 0.3 components (`wasi:http/handler@0.3`: the framework's
/// `p3` feature).
pub mod p3 {
    use std::path::PathBuf;

    /// The component built from `examples/<name>` (package `nanohttp-<name>`).
    pub fn example(name: &str) -> PathBuf {
        component(&format!("nanohttp-{name}"))
    }

    /// The component built from the workspace package `package`.
    ///
    /// # Panics
    /// If the build script did not build it.
    pub fn component(package: &str) -> PathBuf {
        super::built(env!("NANOHTTP_COMPONENTS_P3_DIR"), package)
    }
}

/// `examples/config` built with one of the framework's `wasi:config/store` features.
pub mod config_store {
    use std::path::PathBuf;

    /// With `config-store`: imports `wasi:config/store@0.2.0-rc.1`.
    pub fn config() -> PathBuf {
        super::built(
            env!("NANOHTTP_COMPONENTS_CONFIG_STORE_DIR"),
            "nanohttp-config",
        )
    }

    /// With `config-store-spin`: imports `wasi:config/store@0.2.0-draft-2024-09-27`.
    pub fn config_spin() -> PathBuf {
        super::built(
            env!("NANOHTTP_COMPONENTS_CONFIG_STORE_SPIN_DIR"),
            "nanohttp-config",
        )
    }
}

fn built(dir: &str, package: &str) -> PathBuf {
    let path = Path::new(dir).join(format!("{}.wasm", package.replace('-', "_")));
    assert!(path.is_file(), "no component at {}", path.display());
    path
}

/// Serves `component` with the extra command-line `args` on a free loopback port. Its
/// key-value store is `memory:` unless `args` choose one (`--kv`), so that tests never touch
/// the user's default store.
///
/// # Panics
/// If the host refuses the arguments or the component.
pub fn serve(component: &Path, args: &[&str]) -> BackgroundServer {
    let component = component.to_str().expect("a UTF-8 path");
    let kv: &[&str] = if args.iter().any(|arg| arg.starts_with("--kv")) {
        &[]
    } else {
        &["--kv", "memory:"]
    };
    let argv = ["nanohttp", "-b", "127.0.0.1:0"]
        .into_iter()
        .chain(kv.iter().copied())
        .chain(args.iter().copied())
        .chain([component]);
    let config = Config::from_args(argv).expect("valid arguments");
    BackgroundServer::start(config).expect("the server starts")
}

/// An HTTP/1.1 client that neither follows redirects nor treats 4xx/5xx as errors.
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .allow_non_standard_methods(true)
        .build()
        .new_agent()
}

/// Sends `head` (the request line and headers, without the blank line) and `body` over a raw
/// connection, writing the body from another thread, and returns the status code and the
/// response body. For requests a server answers before reading all of the body (a `413`):
/// an HTTP client library stops at the write error and never reads the response.
///
/// # Panics
/// If the server closes the connection without a response.
pub fn raw_exchange(addr: std::net::SocketAddr, head: &str, body: Vec<u8>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("the server accepts");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("a read timeout");
    let mut writer = stream.try_clone().expect("a second handle");
    let head = format!("{head}\r\nconnection: close\r\n\r\n");
    let sending = std::thread::spawn(move || {
        // Errors are expected once the server has answered and closed.
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&body);
    });
    let mut response = Vec::new();
    // A reset after the response arrived is fine; what was read is what matters.
    let _ = stream.read_to_end(&mut response);
    let _ = sending.join();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {response:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    (status, body.to_owned())
}

/// `POST path` with `body` sent chunked (so no length is declared) over a raw connection, as
/// [`raw_exchange`] does: for bodies a server refuses, and closes the connection on, before
/// reading them whole.
pub fn raw_chunked_post(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> (u16, String) {
    let mut chunked = format!("{:x}\r\n", body.len()).into_bytes();
    chunked.extend_from_slice(body);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let head = format!("POST {path} HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked");
    raw_exchange(addr, &head, chunked)
}

/// A scratch directory under the system's temp dir, unique to this process and `name`,
/// emptied on creation and removed on drop.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates (or empties) the directory.
    ///
    /// # Panics
    /// If it cannot be created.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("nanohttp-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Self(dir)
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` to `relative` (creating its parents) and returns its path.
    ///
    /// # Panics
    /// If it cannot be written.
    pub fn write(&self, relative: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("parent directories");
        std::fs::write(&path, bytes).expect("a scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends every log line of the host (and the rest of this test binary), as JSON, to a buffer
/// that [`log_lines`] searches. Call it before starting the servers whose logs a test reads.
pub fn capture_logs() {
    logs();
}

fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .json()
            .with_env_filter("info")
            .with_writer(move || SharedWriter(writer.clone()))
            .init();
        buffer
    })
    .clone()
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured log lines (see [`capture_logs`]) containing `text`, parsed.
///
/// # Panics
/// If a line is not JSON.
pub fn log_lines(text: &str) -> Vec<serde_json::Value> {
    let logs = logs();
    let text_of_logs = String::from_utf8_lossy(
        &logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    text_of_logs
        .lines()
        .filter(|line| line.contains(text))
        .map(|line| serde_json::from_str(line).expect("a JSON log line"))
        .collect()
}

/// The value of the sample `series` (name and labels, as written) in the `/metrics` of
/// `server`'s admin listener (started with `--admin-bind 127.0.0.1:0`).
///
/// # Panics
/// If the server has no admin listener, or the series is not there.
pub fn metric(server: &BackgroundServer, series: &str) -> f64 {
    let admin = server.admin_addr().expect("a server with --admin-bind");
    let text = client()
        .get(&format!("http://{admin}/metrics"))
        .call()
        .expect("GET /metrics")
        .body_mut()
        .read_to_string()
        .expect("the metrics as text");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in {text}"))
}
