//! Request payloads over HTTP: the `forms` example served by the host.

use nanohttp_e2e::{BackgroundServer, client, raw_exchange};

use super::serve;
use super::wasi::example;

type Response = ureq::http::Response<ureq::Body>;

fn server() -> BackgroundServer {
    serve(&example("forms"), &[])
}

fn text(response: &mut Response) -> String {
    response.body_mut().read_to_string().expect("a UTF-8 body")
}

fn post(server: &BackgroundServer, path: &str, content_type: &str, body: &[u8]) -> Response {
    client()
        .post(server.url(path))
        .header("content-type", content_type)
        .send(body)
        .unwrap()
}

/// A multipart body: `(name, Some(filename), content)` for files, `None` for fields.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(b"--XyZ\r\n");
        match filename {
            Some(filename) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    body
}

const MULTIPART: &str = "multipart/form-data; boundary=XyZ";
const URLENCODED: &str = "application/x-www-form-urlencoded";

#[test]
fn each_parser() {
    let server = server();

    let mut urlencoded = post(
        &server,
        "/echo?lang=en",
        URLENCODED,
        b"tag=a&tag=b&blank=&t=x+y",
    );
    assert_eq!(urlencoded.status(), 200);
    assert_eq!(
        text(&mut urlencoded),
        r#"{"blank":"","lang":"en","t":"x y","tag":["a","b"]}"#
    );

    let mut json = post(
        &server,
        "/echo",
        "application/json",
        br#"{"n": 1, "list": [1, 2]}"#,
    );
    assert_eq!(text(&mut json), r#"{"list":[1,2],"n":1}"#);
    let mut scalar = post(&server, "/echo", "application/json", b"[true, null]");
    assert_eq!(text(&mut scalar), "[true,null]");

    let body = multipart(&[
        ("title", None, b"Hello"),
        ("tag", None, b"one"),
        ("tag", None, b"two"),
        ("doc", Some("a.bin"), b"abc"),
    ]);
    let mut parsed = post(&server, "/echo", MULTIPART, &body);
    assert_eq!(parsed.status(), 200);
    assert!(parsed.headers().contains_key("server-timing"));
    assert_eq!(
        text(&mut parsed),
        r#"{"doc":{"content_type":"application/octet-stream","filename":"a.bin","sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","size":3},"tag":["one","two"],"title":"Hello"}"#
    );
}

#[test]
fn bad_payloads_are_4xx_with_a_reason() {
    let server = server();
    let truncated = {
        let mut body = multipart(&[("doc", Some("a.bin"), &[7; 1000])]);
        body.truncate(300);
        body
    };
    let cases: [(&str, &[u8], u16, &str); 9] = [
        (
            "application/json",
            b"{\"a\": ",
            400,
            "Malformed JSON Body: EOF while parsing a value at line 1 column 6",
        ),
        ("application/json", b"", 400, "Empty JSON Body"),
        (URLENCODED, b"a=%zz", 400, "Malformed URL-Encoded Body"),
        (URLENCODED, b"a=%C3%28", 400, "Malformed URL-Encoded Body"),
        (
            "multipart/form-data",
            b"--XyZ--\r\n",
            400,
            "Missing or Invalid Multipart Boundary",
        ),
        (MULTIPART, &truncated, 400, "Malformed Multipart Body"),
        (
            MULTIPART,
            b"garbage without any boundary",
            400,
            "Malformed Multipart Body",
        ),
        ("text/csv", b"a,b", 415, "Unsupported Form Type: text/csv"),
        (
            "application/json",
            b"\xff\xfe",
            400,
            "Malformed JSON Body: expected value at line 1 column 1",
        ),
    ];
    for (content_type, body, status, message) in cases {
        let mut response = post(&server, "/echo", content_type, body);
        assert_eq!(response.status(), status, "{content_type} {body:?}");
        let expected = format!(r#"{{"message":"{message}","status":{status}}}"#);
        assert_eq!(text(&mut response), expected, "{content_type} {body:?}");
    }
    // A multipart text field that is not UTF-8.
    let body = multipart(&[("title", None, b"\xff\xfe")]);
    let mut response = post(&server, "/echo", MULTIPART, &body);
    assert_eq!(response.status(), 400);
    assert!(text(&mut response).contains("Field: title Is Not UTF-8 Text"));
}

#[test]
fn limits_are_413_sized_or_chunked() {
    let server = server();
    let big = multipart(&[("doc", Some("big.bin"), &vec![1; 2 << 20])]);

    // The component answers as soon as the body goes past 1 MiB, without reading the rest.
    let sized = format!(
        "POST /upload HTTP/1.1\r\nhost: test\r\ncontent-type: {MULTIPART}\r\ncontent-length: {}",
        big.len()
    );
    let (status, answer) = raw_exchange(server.addr(), &sized, big.clone());
    assert_eq!(
        (status, answer.as_str()),
        (413, r#"{"message":"Payload Too Large","status":413}"#)
    );

    let mut chunked_body = Vec::new();
    for piece in big.chunks(64 * 1024) {
        chunked_body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked_body.extend_from_slice(piece);
        chunked_body.extend_from_slice(b"\r\n");
    }
    chunked_body.extend_from_slice(b"0\r\n\r\n");
    let chunked = format!(
        "POST /upload HTTP/1.1\r\nhost: test\r\ncontent-type: {MULTIPART}\r\ntransfer-encoding: chunked"
    );
    let (status, _) = raw_exchange(server.addr(), &chunked, chunked_body);
    assert_eq!(status, 413);

    let small = multipart(&[("doc", Some("small.bin"), &vec![1; 1000])]);
    let mut ok = post(&server, "/upload", MULTIPART, &small);
    assert_eq!(ok.status(), 200);
    assert!(text(&mut ok).contains(r#""size":1000"#));

    // More fields than `max_form_fields` (1000).
    let many = vec!["a=1"; 1001].join("&");
    let mut response = post(&server, "/echo", URLENCODED, many.as_bytes());
    assert_eq!(response.status(), 413);
    assert!(text(&mut response).contains("Too Many Form Fields"));

    // Upload is multipart only.
    let mut not_multipart = post(&server, "/upload", URLENCODED, b"a=1");
    assert_eq!(not_multipart.status(), 415);
    assert!(text(&mut not_multipart).contains("Expected multipart/form-data"));
}

#[test]
fn large_uploads_stream_through() {
    // The host's own body limit (16 MiB by default) is raised for this one.
    let server = serve(&example("forms"), &["-o", "host.max_body_size=300MiB"]);
    // 50 MiB, pseudo-random so that boundaries cannot hide in runs of one byte.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let content: Vec<u8> = (0..50 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let body = multipart(&[("note", None, b"hi"), ("doc", Some("big.bin"), &content)]);
    let mut response = client()
        .post(server.url("/archive"))
        .header("content-type", MULTIPART)
        .send(ureq::SendBody::from_reader(&mut &body[..]))
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer = text(&mut response);
    assert!(
        answer.contains(&format!(r#""size":{}"#, 50 << 20)),
        "{answer}"
    );
    assert!(answer.contains(r#""filename":"big.bin""#), "{answer}");
}

#[test]
fn guards() {
    let server = server();
    let http = client();

    let mut allowed = post(&server, "/guards/whitelist", URLENCODED, b"title=x");
    assert_eq!(text(&mut allowed), r#"{"title":"x"}"#);
    let mut refused = post(&server, "/guards/whitelist", URLENCODED, b"title=x&admin=1");
    assert_eq!(refused.status(), 400);
    assert_eq!(
        text(&mut refused),
        r#"{"message":"Field: admin Not Allowed","status":400}"#
    );

    let mut quiet = http.get(server.url("/guards/no_form")).call().unwrap();
    assert_eq!(text(&mut quiet), "nothing sent, as required");
    let mut noisy = http.get(server.url("/guards/no_form?x=1")).call().unwrap();
    assert_eq!(
        (noisy.status().as_u16(), text(&mut noisy)),
        (400, "400 Form Not Allowed\n".to_owned())
    );
    let posted = post(&server, "/guards/no_form", URLENCODED, b"x=1");
    assert_eq!(posted.status(), 400);

    let mut empty = post(&server, "/guards/need_form", URLENCODED, b"");
    assert_eq!(empty.status(), 422);
    assert_eq!(
        text(&mut empty),
        r#"{"message":"Say Something","status":422}"#
    );
    let mut full = post(&server, "/guards/need_form", URLENCODED, b"a=1");
    assert_eq!(text(&mut full), r#"{"a":"1"}"#);
}

#[test]
fn validation() {
    let server = server();
    let cases: [(&str, &str, u16, &str); 8] = [
        ("", "name=Ada&age=36", 200, r#"{"age":36,"name":"Ada"}"#),
        (
            "",
            "age=36",
            400,
            r#"{"message":"Field: name Required","status":400}"#,
        ),
        (
            "",
            "name=Ada1&age=36",
            422,
            r#"{"message":"Bad name","status":422}"#,
        ),
        (
            "",
            "name=Adaaaaaaaaaaaaaaaaaaa&age=36",
            400,
            r#"{"message":"Field: name Must Have At Most 20 Characters","status":400}"#,
        ),
        (
            "",
            "name=Ada",
            400,
            r#"{"message":"Field: age Required","status":400}"#,
        ),
        (
            "",
            "name=Ada&age=x",
            400,
            r#"{"message":"Field: age Must Be An Integer","status":400}"#,
        ),
        (
            "",
            "name=Ada&age=12",
            400,
            r#"{"message":"Too young","status":400}"#,
        ),
        // The original skipped form validation for a field named in the query string.
        (
            "?age=30",
            "name=Ada&age=12",
            400,
            r#"{"message":"Too young","status":400}"#,
        ),
    ];
    for (query, body, status, answer) in cases {
        let mut response = post(
            &server,
            &format!("/signup{query}"),
            URLENCODED,
            body.as_bytes(),
        );
        assert_eq!(response.status(), status, "{query} {body}");
        assert_eq!(text(&mut response), answer, "{query} {body}");
    }
    let mut json = post(
        &server,
        "/signup",
        "application/json",
        br#"{"name": "Ada", "age": "40"}"#,
    );
    assert_eq!(text(&mut json), r#"{"age":40,"name":"Ada"}"#);
}
