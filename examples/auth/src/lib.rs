//! The identity recipe of the original's documentation, done properly: `begin_request` reads
//! `Authorization: Bearer <token>`, verifies its HMAC-SHA256 signature, and sets the identity;
//! an expired token with a valid refresh cookie gets a new token in `X-New-JWT-Token`.
//!
//! Build and run it:
//! `cargo build -p nanohttp-auth --target wasm32-wasip2 --release` and
//! `cargo run --release -p nanohttp-host -- -o auth.secret=change-me target/wasm32-wasip2/release/nanohttp_auth.wasm`,
//! then `curl -d user=ada -d password=change-me http://127.0.0.1:8080/login`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use nanohttp::cookie::Cookie;
use nanohttp::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The cookie holding the refresh token.
const REFRESH_COOKIE: &str = "refresh-token";

/// The claims a token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who.
    pub sub: String,
    /// The session, which the refresh token names too.
    pub sid: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// `"access"` or `"refresh"`.
    pub kind: String,
}

/// What `begin_request` found: the identity of the caller, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity(pub Claims);

/// The settings this example reads (`auth:` section).
#[derive(Debug, Clone, Deserialize)]
struct AuthSettings {
    secret: String,
    #[serde(default = "default_access_seconds")]
    access_seconds: u64,
    #[serde(default = "default_refresh_seconds")]
    refresh_seconds: u64,
}

fn default_access_seconds() -> u64 {
    300
}

fn default_refresh_seconds() -> u64 {
    86_400
}

/// Signs and verifies tokens: `base64url(claims JSON) "." base64url(HMAC-SHA256)`.
#[derive(Debug, Clone)]
pub struct Signer {
    secret: Vec<u8>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token, or a bad signature.
    Invalid,
    /// Well signed, but past its expiry.
    Expired(Claims),
}

impl Signer {
    /// A signer with the shared secret.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length")
    }

    /// A signed token for `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The claims of a well-signed token of `kind` that has not expired at `now`.
    pub fn verify(&self, token: &str, kind: &str, now: u64) -> Result<Claims, TokenError> {
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
        if claims.kind != kind {
            return Err(TokenError::Invalid);
        }
        if claims.exp <= now {
            return Err(TokenError::Expired(claims));
        }
        Ok(claims)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The root.
#[derive(Debug, Default)]
pub struct Root {
    auth: Option<(Signer, AuthSettings)>,
}

#[controller]
impl Root {
    /// `POST /login` with `user` and `password` (the demo accepts the secret as password):
    /// an access token in the body, a refresh token in an HttpOnly cookie.
    #[json("POST")]
    fn login(&self, ctx: &mut Context) -> Result<serde_json::Value, HttpStatus> {
        let (signer, settings) = self.configured()?;
        let form = ctx.form()?;
        let user = form.get("user").map(|u| u.into_owned());
        let password = form.get("password").map(|p| p.into_owned());
        let (Some(user), Some(password)) = (user, password) else {
            return Err(HttpStatus::bad_request().with_reason("user and password are required"));
        };
        if password != settings.secret {
            return Err(HttpStatus::unauthorized());
        }
        let sid = format!("{user}-{}", now());
        let claims = |kind: &str, seconds| Claims {
            sub: user.clone(),
            sid: sid.clone(),
            exp: now() + seconds,
            kind: kind.to_owned(),
        };
        let access = signer.sign(&claims("access", settings.access_seconds));
        let refresh = signer.sign(&claims("refresh", settings.refresh_seconds));
        ctx.set_cookie(
            Cookie::build((REFRESH_COOKIE, refresh))
                .http_only(true)
                .path("/")
                .same_site(nanohttp::cookie::SameSite::Strict)
                .build(),
        );
        Ok(serde_json::json!({ "token": access }))
    }

    /// `GET /me`: who the token says the caller is; `401` without a valid token.
    #[json("GET")]
    fn me(&self, ctx: &Context) -> Result<serde_json::Value, HttpStatus> {
        let Identity(claims) = ctx.values().get::<Identity>().ok_or_else(|| {
            HttpStatus::unauthorized()
                .with_header(nanohttp::http::header::WWW_AUTHENTICATE, "Bearer")
        })?;
        Ok(serde_json::json!({ "user": claims.sub, "session": claims.sid, "expires": claims.exp }))
    }
}

impl Root {
    fn configured(&self) -> Result<&(Signer, AuthSettings), HttpStatus> {
        self.auth.as_ref().ok_or_else(|| {
            HttpStatus::service_unavailable()
                .with_detail("set auth.secret (for example `-o auth.secret=...`) to sign tokens")
        })
    }
}

impl Application for Root {
    fn app_init(&mut self, settings: &Settings) {
        match settings.get_as::<AuthSettings>("auth") {
            Ok(auth) => self.auth = Some((Signer::new(auth.secret.as_bytes()), auth)),
            Err(error) => eprintln!("auth example: {error}; /login answers 503"),
        }
    }

    fn begin_request(&self, ctx: &mut Context) -> Result<(), HttpStatus> {
        let Some((signer, settings)) = &self.auth else {
            return Ok(());
        };
        let Some(token) = ctx
            .header(nanohttp::http::header::AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::to_owned)
        else {
            return Ok(());
        };
        let now = now();
        match signer.verify(&token, "access", now) {
            Ok(claims) => {
                ctx.values_mut().insert(Identity(claims));
            }
            Err(TokenError::Expired(expired)) => {
                // A refresh cookie for the same session earns a new access token.
                let refreshed = ctx
                    .cookie(REFRESH_COOKIE)
                    .and_then(|cookie| signer.verify(cookie, "refresh", now).ok())
                    .filter(|refresh| refresh.sid == expired.sid && refresh.sub == expired.sub);
                if let Some(refresh) = refreshed {
                    let claims = Claims {
                        exp: now + settings.access_seconds,
                        kind: "access".to_owned(),
                        ..refresh
                    };
                    ctx.set_header("x-new-jwt-token", signer.sign(&claims))?;
                    ctx.values_mut().insert(Identity(claims));
                }
            }
            Err(TokenError::Invalid) => {}
        }
        Ok(())
    }
}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    fn client() -> TestClient<Root> {
        TestClient::with_settings(Root::default(), r#"{"auth": {"secret": "s3cret"}}"#).unwrap()
    }

    fn claims(kind: &str, exp: u64) -> Claims {
        Claims {
            sub: "ada".into(),
            sid: "ada-1".into(),
            exp,
            kind: kind.into(),
        }
    }

    #[test]
    fn tokens() {
        let signer = Signer::new(b"k");
        let token = signer.sign(&claims("access", 100));
        assert_eq!(
            signer.verify(&token, "access", 50),
            Ok(claims("access", 100))
        );
        assert_eq!(
            signer.verify(&token, "access", 100),
            Err(TokenError::Expired(claims("access", 100)))
        );
        assert_eq!(
            signer.verify(&token, "refresh", 50),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            Signer::new(b"other").verify(&token, "access", 50),
            Err(TokenError::Invalid)
        );
        let tampered = token.replacen('e', "f", 1);
        assert_eq!(
            signer.verify(&tampered, "access", 50),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn me_with_fresh_expired_and_missing_tokens() {
        let client = client();
        let signer = Signer::new(b"s3cret");
        let fresh = signer.sign(&claims("access", now() + 60));
        let me = client
            .get("/me")
            .header("authorization", &format!("Bearer {fresh}"))
            .send();
        assert_eq!(me.status, 200);
        assert_eq!(me.json()["user"], "ada");

        assert_eq!(client.get("/me").send().status, 401);

        let expired = signer.sign(&claims("access", now() - 1));
        let refresh = signer.sign(&claims("refresh", now() + 60));
        let refused = client
            .get("/me")
            .header("authorization", &format!("Bearer {expired}"))
            .send();
        assert_eq!(refused.status, 401);
        let renewed = client
            .get("/me")
            .header("authorization", &format!("Bearer {expired}"))
            .header("cookie", &format!("{REFRESH_COOKIE}={refresh}"))
            .send();
        assert_eq!(renewed.status, 200);
        let new_token = renewed.header("x-new-jwt-token").unwrap();
        assert!(signer.verify(new_token, "access", now()).is_ok());
    }
}
