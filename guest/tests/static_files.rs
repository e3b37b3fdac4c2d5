//! Static files, natively, against a scratch directory.

use std::path::PathBuf;

use nanohttp::Static;
use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

struct Root {
    files: Static,
}

#[controller]
impl Root {
    #[child]
    fn files(&self) -> &Static {
        &self.files
    }
}

impl Application for Root {}

/// A scratch tree: `site/` (served) and `secret.txt` beside it (not).
struct Tree(PathBuf);

impl Tree {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nanohttp-static-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let site = dir.join("site");
        std::fs::create_dir_all(site.join("docs")).unwrap();
        std::fs::create_dir_all(site.join("empty-dir")).unwrap();
        std::fs::write(dir.join("secret.txt"), "secret").unwrap();
        std::fs::write(site.join("index.html"), "<h1>home</h1>").unwrap();
        std::fs::write(site.join("docs/index.html"), "<h1>docs</h1>").unwrap();
        std::fs::write(site.join("a..b.txt"), "dots").unwrap();
        std::fs::write(site.join("empty.txt"), "").unwrap();
        std::fs::write(site.join("style.css"), "body {}").unwrap();
        std::fs::write(
            site.join("big.bin"),
            (0..200_000u32).map(|i| i as u8).collect::<Vec<_>>(),
        )
        .unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("secret.txt"), site.join("escape.txt")).unwrap();
        Self(dir)
    }

    fn site(&self) -> PathBuf {
        self.0.join("site")
    }

    fn client(&self) -> TestClient<Root> {
        TestClient::new(Root {
            files: Static::new(self.site()),
        })
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn files_and_default_documents() {
    let tree = Tree::new("files");
    let client = tree.client();
    let cases = [
        (
            "/files/",
            200,
            "<h1>home</h1>",
            Some("text/html; charset=utf-8"),
        ),
        (
            "/files",
            200,
            "<h1>home</h1>",
            Some("text/html; charset=utf-8"),
        ),
        (
            "/files/docs",
            200,
            "<h1>docs</h1>",
            Some("text/html; charset=utf-8"),
        ),
        (
            "/files/docs/",
            200,
            "<h1>docs</h1>",
            Some("text/html; charset=utf-8"),
        ),
        (
            "/files/a..b.txt",
            200,
            "dots",
            Some("text/plain; charset=utf-8"),
        ),
        (
            "/files/style.css",
            200,
            "body {}",
            Some("text/css; charset=utf-8"),
        ),
        (
            "/files/empty.txt",
            200,
            "",
            Some("text/plain; charset=utf-8"),
        ),
        (
            "/files/empty-dir",
            404,
            "404 Not Found\n",
            Some("text/plain; charset=utf-8"),
        ),
        (
            "/files/missing.txt",
            404,
            "404 Not Found\n",
            Some("text/plain; charset=utf-8"),
        ),
    ];
    for (path, status, body, content_type) in cases {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{path}"
        );
        assert_eq!(response.header("content-type"), content_type, "{path}");
    }
    let response = client.get("/files/a..b.txt").send();
    assert_eq!(response.header("content-length"), Some("4"));
    assert!(response.header("last-modified").is_some());
    assert!(
        response
            .header("etag")
            .is_some_and(|e| e.starts_with("W/\""))
    );
}

#[test]
fn nothing_outside_the_directory() {
    let tree = Tree::new("traversal");
    assert!(tree.0.join("secret.txt").exists());
    let client = tree.client();
    for path in [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E/secret.txt",
        "/files/..%2fsecret.txt",
        "/files/..%2Fsecret.txt",
        "/files/..%5csecret.txt",
        "/files/docs/../../secret.txt",
        "/files/.",
        "/files//secret.txt",
        "/files/%2fetc%2fpasswd",
        "/files/secret.txt%00.html",
    ] {
        let response = client.get(path).send();
        assert!(
            matches!(response.status.as_u16(), 403 | 404),
            "{path}: {} {}",
            response.status,
            response.text()
        );
        assert!(
            !response.text().contains("secret\n") && response.text() != "secret",
            "{path}"
        );
    }
    #[cfg(unix)]
    assert_eq!(
        client.get("/files/escape.txt").send().status,
        403,
        "a symlink out of the root"
    );
}

#[test]
fn conditional_requests() {
    let tree = Tree::new("conditional");
    let client = tree.client();
    let first = client.get("/files/style.css").send();
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();

    let cached = client
        .get("/files/style.css")
        .header("if-none-match", &etag)
        .send();
    assert_eq!((cached.status.as_u16(), cached.body.len()), (304, 0));
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    let changed = client
        .get("/files/style.css")
        .header("if-none-match", "W/\"other\"")
        .send();
    assert_eq!(changed.status, 200);

    let since = client
        .get("/files/style.css")
        .header("if-modified-since", &modified)
        .send();
    assert_eq!(since.status, 304);
    let old = client
        .get("/files/style.css")
        .header("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")
        .send();
    assert_eq!(old.status, 200);
}

#[test]
fn ranges() {
    let tree = Tree::new("ranges");
    let client = tree.client();
    let expected: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();

    let whole = client.get("/files/big.bin").send();
    assert_eq!(whole.body, expected);
    assert!(whole.chunks > 1, "streamed in pieces, not read whole");
    assert_eq!(
        whole.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));

    let cases = [
        ("bytes=0-9", 206, Some("bytes 0-9/200000"), &expected[0..10]),
        (
            "bytes=199990-",
            206,
            Some("bytes 199990-199999/200000"),
            &expected[199_990..],
        ),
        (
            "bytes=-5",
            206,
            Some("bytes 199995-199999/200000"),
            &expected[199_995..],
        ),
        (
            "bytes=100-999999",
            206,
            Some("bytes 100-199999/200000"),
            &expected[100..],
        ),
        ("bytes=0-1,5-6", 200, None, &expected[..]),
        ("pages=1-2", 200, None, &expected[..]),
        ("bytes=300000-", 416, Some("bytes */200000"), &b""[..]),
    ];
    for (range, status, content_range, body) in cases {
        let response = client.get("/files/big.bin").header("range", range).send();
        assert_eq!(response.status, status, "{range}");
        assert_eq!(response.header("content-range"), content_range, "{range}");
        if status != 416 {
            assert_eq!(response.body, body, "{range}");
            assert_eq!(
                response.header("content-length"),
                Some(body.len().to_string().as_str()),
                "{range}"
            );
        }
    }
}

#[test]
fn verbs() {
    let tree = Tree::new("verbs");
    let client = tree.client();
    let head = client.head("/files/style.css").send();
    assert_eq!((head.status.as_u16(), head.body.len()), (200, 0));
    assert_eq!(head.header("content-length"), Some("7"));
    let post = client.post("/files/style.css").send();
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(client.options("/files/style.css").send().status, 204);
}
