//! Helpers for the end-to-end tests: the example components (built for `wasm32-wasip2` by this
//! crate's build script), a host serving one of them on `127.0.0.1:0`, and an HTTP client that
//! reports every status as it is.

use std::path::{Path, PathBuf};

pub use nanohttp_host::{BackgroundServer, Config};

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
    let dir = Path::new(env!("NANOHTTP_COMPONENTS_DIR"));
    let path = dir.join(format!("{}.wasm", package.replace('-', "_")));
    assert!(path.is_file(), "no component at {}", path.display());
    path
}

/// Serves `component` with the extra command-line `args` on a free loopback port.
///
/// # Panics
/// If the host refuses the arguments or the component.
pub fn serve(component: &Path, args: &[&str]) -> BackgroundServer {
    let component = component.to_str().expect("a UTF-8 path");
    let argv = ["nanohttp", "-b", "127.0.0.1:0"]
        .into_iter()
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
