//! Static files through the host: `--dir HOST::GUEST` maps a directory into the `static`
//! example (which serves `/site`), and `:Static` serves a directory with the server embedded in
//! the host. Traversal attempts are sent raw, so no client normalises them first.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use nanohttp_e2e::{BackgroundServer, Config, Scratch, client, raw_exchange, serve};

use super::wasi::example;

type Response = ureq::http::Response<ureq::Body>;

/// What no response may ever contain: the secret file lives outside the served directory.
const SECRET: &str = "TOP-SECRET: the launch codes";
/// Every file's modification time: 2023-11-14 22:13:20 UTC.
const MODIFIED_SECS: u64 = 1_700_000_000;
const MODIFIED_HTTP: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
const MIB: usize = 1 << 20;

/// The served tree, under `<scratch>/site`, with a secret next to it (not in it).
struct Site {
    scratch: Scratch,
    big: Vec<u8>,
}

impl Site {
    fn new(name: &str) -> Self {
        let scratch = Scratch::new(name);
        let big: Vec<u8> = (0..MIB)
            .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
            .collect();
        scratch.write("secret.txt", SECRET);
        let files: [(&str, &[u8]); 6] = [
            ("site/index.html", b"<h1>home</h1>"),
            ("site/a..b.txt", b"dots in the middle are fine"),
            ("site/empty.txt", b""),
            ("site/big.bin", &big),
            ("site/sub/index.html", b"<h1>sub</h1>"),
            ("site/style.css", b"body { color: red }"),
        ];
        for (relative, bytes) in files {
            let path = scratch.write(relative, bytes);
            File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(UNIX_EPOCH + Duration::from_secs(MODIFIED_SECS))
                .unwrap();
        }
        let site = scratch.path().join("site");
        let secret = scratch.path().join("secret.txt");
        std::os::unix::fs::symlink("../secret.txt", site.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(&secret, site.join("absolute-link.txt")).unwrap();
        std::os::unix::fs::symlink("..", site.join("up")).unwrap();
        Self { scratch, big }
    }

    fn site(&self) -> String {
        self.scratch.path().join("site").display().to_string()
    }

    fn serve(&self) -> BackgroundServer {
        let mapping = format!("{}::/site", self.site());
        serve(&example("static"), &["--dir", &mapping])
    }
}

fn get(server: &BackgroundServer, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = client().get(server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.call().unwrap()
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", response.headers()))
        .to_str()
        .unwrap()
}

fn bytes(response: &mut Response) -> Vec<u8> {
    response
        .body_mut()
        .with_config()
        .limit(4 * MIB as u64)
        .read_to_vec()
        .unwrap()
}

/// The weak ETag the server derives from size and modification time.
fn expected_etag(size: usize) -> String {
    format!(
        "W/\"{size:x}-{:x}\"",
        u128::from(MODIFIED_SECS) * 1_000_000_000
    )
}

#[test]
fn files_default_documents_types_and_validators() {
    let site = Site::new("static-files");
    let server = site.serve();

    let cases = [
        ("/", "text/html; charset=utf-8", b"<h1>home</h1>".as_slice()),
        ("/index.html", "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/sub/", "text/html; charset=utf-8", b"<h1>sub</h1>"),
        ("/sub", "text/html; charset=utf-8", b"<h1>sub</h1>"),
        (
            "/a..b.txt",
            "text/plain; charset=utf-8",
            b"dots in the middle are fine",
        ),
        (
            "/style.css",
            "text/css; charset=utf-8",
            b"body { color: red }",
        ),
    ];
    for (path, content_type, body) in cases {
        let mut response = get(&server, path, &[]);
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), content_type, "{path}");
        assert_eq!(
            header(&response, "content-length"),
            body.len().to_string(),
            "{path}"
        );
        assert_eq!(header(&response, "last-modified"), MODIFIED_HTTP, "{path}");
        assert_eq!(
            header(&response, "etag"),
            expected_etag(body.len()),
            "{path}"
        );
        assert_eq!(bytes(&mut response), body, "{path}");
    }

    // A large file arrives whole, with its length announced, as an opaque type.
    let mut big = get(&server, "/big.bin", &[]);
    assert_eq!(big.status(), 200);
    assert_eq!(header(&big, "content-type"), "application/octet-stream");
    assert_eq!(header(&big, "content-length"), MIB.to_string());
    assert_eq!(header(&big, "accept-ranges"), "bytes");
    assert!(bytes(&mut big) == site.big, "the 1 MiB file differs");

    // An empty file is a 200 with an empty body, not a 204 or a 404.
    let mut empty = get(&server, "/empty.txt", &[]);
    assert_eq!(empty.status(), 200);
    assert_eq!(header(&empty, "content-length"), "0");
    assert!(bytes(&mut empty).is_empty());

    // Missing files and directories without a default document.
    for path in ["/missing.txt", "/sub/missing.html", "/nope/"] {
        assert_eq!(get(&server, path, &[]).status(), 404, "{path}");
    }
}

#[test]
fn conditional_requests_ranges_and_methods() {
    let site = Site::new("static-conditional");
    let server = site.serve();
    let etag = expected_etag(MIB);

    let not_modified: [&[(&str, &str)]; 5] = [
        &[("if-none-match", &etag)],
        &[("if-none-match", "\"other\", *")],
        &[("if-modified-since", MODIFIED_HTTP)],
        &[("if-modified-since", "Wed, 15 Nov 2023 00:00:00 GMT")],
        // If-None-Match wins over If-Modified-Since.
        &[
            ("if-none-match", &etag),
            ("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT"),
        ],
    ];
    for headers in not_modified {
        let mut response = get(&server, "/big.bin", headers);
        assert_eq!(response.status(), 304, "{headers:?}");
        assert_eq!(header(&response, "etag"), etag, "{headers:?}");
        assert!(bytes(&mut response).is_empty(), "{headers:?}");
    }
    let modified: [&[(&str, &str)]; 3] = [
        &[("if-none-match", "W/\"1-2\"")],
        &[("if-modified-since", "Mon, 13 Nov 2023 00:00:00 GMT")],
        &[
            ("if-none-match", "W/\"1-2\""),
            ("if-modified-since", MODIFIED_HTTP),
        ],
    ];
    for headers in modified {
        let mut response = get(&server, "/big.bin", headers);
        assert_eq!(response.status(), 200, "{headers:?}");
        assert_eq!(bytes(&mut response).len(), MIB, "{headers:?}");
    }

    let ranges = [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=1048000-", 1_048_000, MIB - 1),
        ("bytes=-10", MIB - 10, MIB - 1),
        // An end past the file is cut to it.
        ("bytes=1048570-99999999", 1_048_570, MIB - 1),
    ];
    for (range, start, end) in ranges {
        let mut response = get(&server, "/big.bin", &[("range", range)]);
        assert_eq!(response.status(), 206, "{range}");
        assert_eq!(
            header(&response, "content-range"),
            format!("bytes {start}-{end}/{MIB}"),
            "{range}"
        );
        assert_eq!(
            header(&response, "content-length"),
            (end - start + 1).to_string(),
            "{range}"
        );
        assert!(
            bytes(&mut response) == site.big[start..=end],
            "{range}: wrong bytes"
        );
    }
    for range in ["bytes=1048576-", "bytes=2000000-2000010"] {
        let mut response = get(&server, "/big.bin", &[("range", range)]);
        assert_eq!(response.status(), 416, "{range}");
        assert_eq!(
            header(&response, "content-range"),
            format!("bytes */{MIB}"),
            "{range}"
        );
        let _ = bytes(&mut response);
    }

    let http = client();
    // HEAD: GET's validators and type, no body. Its Content-Length is dropped by the guest
    // (wasi:http holds a body to its declared length); if one is sent, it is GET's.
    let head = http.head(server.url("/big.bin")).call().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "etag"), etag);
    assert_eq!(header(&head, "last-modified"), MODIFIED_HTTP);
    assert_eq!(header(&head, "content-type"), "application/octet-stream");
    if let Some(length) = head.headers().get("content-length") {
        assert_eq!(length, MIB.to_string().as_str());
    }
    let (status, body) = raw_exchange(
        server.addr(),
        "HEAD /index.html HTTP/1.1\r\nhost: localhost",
        Vec::new(),
    );
    assert_eq!((status, body.as_str()), (200, ""));

    for method in ["POST", "PUT", "DELETE"] {
        // A connection of its own each: the guest answers without reading the body, and
        // hyper closes a connection whose request body was not read when that body arrives
        // in a later packet (as it may on a busy machine), which a reused one would run into.
        let http = client();
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(server.url("/index.html"))
            .body("x")
            .unwrap();
        let mut response = http
            .run(request)
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(header(&response, "allow"), "GET, HEAD, OPTIONS", "{method}");
        let _ = bytes(&mut response);
    }
}

#[test]
fn nothing_outside_the_directory_is_reachable() {
    let site = Site::new("static-traversal");
    let server = site.serve();
    let attempts = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2fetc%2fpasswd",
        "/%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/secret.txt%00",
        "/index.html%00.txt",
        "//etc/passwd",
        "///secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/./../secret.txt",
        "/link.txt",
        "/absolute-link.txt",
        "/up/secret.txt",
        "/up/site/index.html",
    ];
    for path in attempts {
        let (status, body) = raw_exchange(
            server.addr(),
            &format!("GET {path} HTTP/1.1\r\nhost: localhost"),
            Vec::new(),
        );
        assert!(status == 403 || status == 404, "{path}: {status} {body:?}");
        assert!(!body.contains("TOP-SECRET"), "{path} leaked the secret");
    }
    // The same server still serves what it should, dots and all.
    let (status, body) = raw_exchange(
        server.addr(),
        "GET /a..b.txt HTTP/1.1\r\nhost: localhost",
        Vec::new(),
    );
    assert_eq!(
        (status, body.as_str()),
        (200, "dots in the middle are fine")
    );
}

#[test]
fn static_target_serves_a_directory_with_no_component_file() {
    let site = Site::new("static-target");
    let dir = site.site();
    let config =
        Config::from_args(["nanohttp", "-b", "127.0.0.1:0", "-C", &dir, ":Static"]).unwrap();
    assert_eq!(config.target_name(), ":Static");
    let server = BackgroundServer::start(config).unwrap();

    let mut home = get(&server, "/", &[]);
    assert_eq!(home.status(), 200);
    assert_eq!(header(&home, "content-type"), "text/html; charset=utf-8");
    assert_eq!(bytes(&mut home), b"<h1>home</h1>");
    let mut dots = get(&server, "/a..b.txt", &[]);
    assert_eq!(bytes(&mut dots), b"dots in the middle are fine");
    let (status, body) = raw_exchange(
        server.addr(),
        "GET /../secret.txt HTTP/1.1\r\nhost: localhost",
        Vec::new(),
    );
    assert!(status == 403 || status == 404, "{status} {body:?}");
    assert!(!body.contains("TOP-SECRET"));
    let link = get(&server, "/link.txt", &[]).status();
    assert!(link == 403 || link == 404, "{link}");
}

#[test]
fn a_missing_directory_stops_the_host_before_it_listens() {
    let scratch = Scratch::new("static-missing");
    let missing = scratch.path().join("missing");
    let file = scratch.write("file.txt", "not a directory");
    let component = example("static");
    let component = component.to_str().unwrap();
    for (dir, reason) in [
        (missing.as_path(), "No such file or directory"),
        (file.as_path(), "not a directory"),
    ] {
        let mapping = format!("{}::/site", dir.display());
        let error = Config::from_args(["nanohttp", "--dir", &mapping, component]).unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            format!("cannot map directory '{}': {reason}", dir.display())
        );
    }
    // Relative paths are resolved against -C.
    let base = scratch.path().display().to_string();
    let error =
        Config::from_args(["nanohttp", "-C", &base, "--dir", "missing", component]).unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot map directory '{}': No such file or directory",
            Path::new(&base).join("missing").display()
        )
    );
}
