//! The documentation's recipes as components: the identity hook (`auth`) and templates.

use std::time::{SystemTime, UNIX_EPOCH};

use nanohttp_auth::{Claims, Signer};
use nanohttp_e2e::{client, serve};

use super::wasi::example;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn auth_login_me_and_refresh() {
    let server = serve(&example("auth"), &["-o", "auth.secret=s3cret"]);
    let http = client();

    let mut refused = http
        .post(server.url("/login"))
        .send_form([("user", "ada"), ("password", "wrong")])
        .unwrap();
    assert_eq!(refused.status(), 401);
    let _ = refused.body_mut().read_to_string();

    let mut login = http
        .post(server.url("/login"))
        .send_form([("user", "ada"), ("password", "s3cret")])
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("refresh-token=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let body = login.body_mut().read_to_string().unwrap();
    let token = body
        .strip_prefix(r#"{"token":""#)
        .and_then(|rest| rest.strip_suffix(r#""}"#))
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();

    let mut me = http
        .get(server.url("/me"))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(
        me.body_mut()
            .read_to_string()
            .unwrap()
            .contains(r#""user":"ada""#)
    );

    let anonymous = http.get(server.url("/me")).call().unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");

    // An expired access token with a refresh cookie of the same session gets a new token.
    let signer = Signer::new(b"s3cret");
    let claims = |kind: &str, exp| Claims {
        sub: "ada".into(),
        sid: "ada-1".into(),
        exp,
        kind: kind.into(),
    };
    let expired = signer.sign(&claims("access", now() - 10));
    let refresh = signer.sign(&claims("refresh", now() + 600));
    let renewed = http
        .get(server.url("/me"))
        .header("authorization", &format!("Bearer {expired}"))
        .header("cookie", &format!("refresh-token={refresh}"))
        .call()
        .unwrap();
    assert_eq!(renewed.status(), 200);
    let new_token = renewed.headers()["x-new-jwt-token"].to_str().unwrap();
    assert!(signer.verify(new_token, "access", now()).is_ok());

    let without_cookie = http
        .get(server.url("/me"))
        .header("authorization", &format!("Bearer {expired}"))
        .call()
        .unwrap();
    assert_eq!(without_cookie.status(), 401);
    assert!(without_cookie.headers().get("x-new-jwt-token").is_none());
}

#[test]
fn auth_without_a_secret_is_503_not_a_crash() {
    let server = serve(&example("auth"), &[]);
    let response = client()
        .post(server.url("/login"))
        .send_form([("user", "ada"), ("password", "x")])
        .unwrap();
    assert_eq!(response.status(), 503);
}

#[test]
fn templates_render_escaped() {
    let server = serve(&example("templates"), &[]);
    let mut page = client()
        .get(server.url("/?title=%3Cb%3Ehi"))
        .header("x-demo", "a & b")
        .call()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.body_mut().read_to_string().unwrap();
    assert!(html.contains("<h1>&lt;b&gt;hi</h1>"), "{html}");
    assert!(html.contains("<li><b>x-demo:</b> a &amp; b</li>"), "{html}");
}
