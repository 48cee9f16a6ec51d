//! The IAM stand-in (`POST /v3/auth/tokens?nocatalog=true`), the tokens it
//! issued, and the registered access keys.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value};

/// The path of the token API.
pub(crate) const TOKENS_PATH: &str = "/v3/auth/tokens";

/// IAM's answer to a wrong user name, domain or password, word for word.
pub(crate) const WRONG_PASSWORD: &str = "The username or password is wrong.";

/// Whether a request target names the token API (any query).
pub(crate) fn is_iam_target(target: &str) -> bool {
    target.split_once('?').map_or(target, |(p, _)| p) == TOKENS_PATH
}

/// IAM's error body: `{"error":{"code":N,"message":"...","title":"..."}}`.
pub(crate) fn error_body(status: u16, message: &str) -> String {
    serde_json::json!({
        "error": {"code": status, "message": message, "title": title(status)}
    })
    .to_string()
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// One registered IAM user.
#[derive(Clone)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) password: String,
    pub(crate) domain: String,
}

/// An IAM answer, before it is written.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// The new token, on success (goes in `X-Subject-Token`).
    pub(crate) token: Option<String>,
    /// The error message, when not a success.
    pub(crate) error: Option<String>,
}

impl Answer {
    fn error(status: u16, message: impl Into<String>) -> Answer {
        let message = message.into();
        Answer {
            status,
            body: error_body(status, &message),
            token: None,
            error: Some(message),
        }
    }
}

/// What an IAM-issued token is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenState {
    /// Not a token this IAM issued.
    Unknown,
    Valid,
    Expired,
    Revoked,
}

struct Issued {
    serial: u64,
    /// Microseconds since the epoch: the `expires_at` IAM announced.
    expires_us: u64,
}

struct State {
    users: Vec<User>,
    keys: HashMap<String, String>,
    tokens: HashMap<String, Issued>,
    issued: u64,
    /// Tokens with a serial below this are revoked.
    revoked_below: u64,
    lifetime: Duration,
    requests: usize,
    rng: u64,
}

/// Users, keys and issued tokens, shared by the request threads.
pub(crate) struct Iam {
    state: Mutex<State>,
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The length of an issued token: within the 1,000 to 2,000 characters of a real one.
pub(crate) const TOKEN_LEN: usize = 1_200;

impl Iam {
    pub(crate) fn new(users: Vec<User>, keys: HashMap<String, String>, seed: u64) -> Iam {
        Iam {
            state: Mutex::new(State {
                users,
                keys,
                tokens: HashMap::new(),
                issued: 0,
                revoked_below: 0,
                lifetime: Duration::from_secs(24 * 3600),
                requests: 0,
                rng: seed | 1,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_lifetime(&self, d: Duration) {
        self.lock().lifetime = d;
    }

    pub(crate) fn revoke_all(&self) {
        let mut s = self.lock();
        s.revoked_below = s.issued;
    }

    pub(crate) fn count_request(&self) {
        self.lock().requests += 1;
    }

    pub(crate) fn requests(&self) -> usize {
        self.lock().requests
    }

    pub(crate) fn issued(&self) -> u64 {
        self.lock().issued
    }

    pub(crate) fn secret_key(&self, access_key: &str) -> Option<String> {
        self.lock().keys.get(access_key).cloned()
    }

    /// What `token` is worth at `now_ns` (wall clock).
    pub(crate) fn token_state(&self, token: &str, now_ns: u64) -> TokenState {
        let s = self.lock();
        match s.tokens.get(token) {
            None => TokenState::Unknown,
            Some(i) if i.serial < s.revoked_below => TokenState::Revoked,
            Some(i) if now_ns / 1_000 >= i.expires_us => TokenState::Expired,
            Some(_) => TokenState::Valid,
        }
    }

    /// Answers a token request whose method and query were already checked.
    pub(crate) fn token_request(&self, content_types: &[&str], body: &[u8], project_id: &str, now_ns: u64) -> Answer {
        if let Err(msg) = check_content_type(content_types) {
            return Answer::error(400, msg);
        }
        let (user, password, domain) = match parse_body(body, project_id) {
            Ok(v) => v,
            Err(msg) => return Answer::error(400, msg),
        };
        let mut s = self.lock();
        let known = s
            .users
            .iter()
            .any(|u| u.name == user && u.domain == domain && u.password == password);
        if !known {
            return Answer::error(401, WRONG_PASSWORD);
        }
        let serial = s.issued;
        s.issued += 1;
        let token = make_token(serial, &mut s.rng);
        let issued_us = now_ns / 1_000;
        let life_us = u64::try_from(s.lifetime.as_micros()).unwrap_or(u64::MAX);
        let expires_us = issued_us.saturating_add(life_us);
        s.tokens.insert(token.clone(), Issued { serial, expires_us });
        drop(s);
        let body = serde_json::json!({
            "token": {
                "expires_at": rfc3339_micros(expires_us),
                "issued_at": rfc3339_micros(issued_us),
                "methods": ["password"],
                "user": {"name": user, "domain": {"name": domain}},
                "project": {"id": project_id},
            }
        })
        .to_string();
        Answer {
            status: 201,
            body,
            token: Some(token),
            error: None,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, as IAM writes `expires_at`.
pub(crate) fn rfc3339_micros(us: u64) -> String {
    let nanos = crate::rfc3339_nanos(us.saturating_mul(1_000).min(u64::MAX / 1_000 * 1_000));
    // Nine fractional digits and a Z: keep six.
    format!("{}Z", &nanos[..nanos.len() - 4])
}

/// A unique token: `MIIi`, four characters that encode the serial (so the
/// first eight characters tell tokens apart), then random characters.
fn make_token(serial: u64, rng: &mut u64) -> String {
    let mut t = String::with_capacity(TOKEN_LEN);
    t.push_str("MIIi");
    for shift in [18u32, 12, 6, 0] {
        t.push(ALPHABET[((serial >> shift) & 63) as usize] as char);
    }
    while t.len() < TOKEN_LEN {
        let mut x = *rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *rng = x;
        t.push(ALPHABET[(x >> 58) as usize] as char);
    }
    t
}

/// `application/json`, optionally with `;charset=UTF-8` (spaces and case aside).
fn check_content_type(values: &[&str]) -> Result<(), String> {
    let ok = match values {
        [v] => {
            let v = v.trim().to_ascii_lowercase();
            match v.split_once(';') {
                None => v == "application/json",
                Some((media, param)) => media.trim_end() == "application/json" && param.trim() == "charset=utf-8",
            }
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Invalid Content-Type {:?}: must be application/json (optionally ;charset=UTF-8).",
            values.join(", ")
        ))
    }
}

fn object<'a>(v: &'a Value, path: &str, keys: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let Value::Object(m) = v else {
        return Err(format!("Invalid request body: {path} must be an object."));
    };
    if let Some(k) = m.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("Invalid request body: unexpected field {path}.{k}."));
    }
    if let Some(k) = keys.iter().find(|k| !m.contains_key(**k)) {
        return Err(format!("Invalid request body: {path}.{k} is required."));
    }
    Ok(m)
}

fn string<'a>(m: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a str, String> {
    match m.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(format!(
            "Invalid request body: {path}.{key} must be a non-empty string."
        )),
    }
}

/// Checks the documented body shape exactly; returns user, password, domain.
fn parse_body(body: &[u8], project_id: &str) -> Result<(String, String, String), String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("Invalid request body: not valid JSON: {e}"))?;
    let top = object(&v, "body", &["auth"])?;
    let auth = object(&top["auth"], "auth", &["identity", "scope"])?;
    let identity = object(&auth["identity"], "auth.identity", &["methods", "password"])?;
    if identity["methods"] != serde_json::json!(["password"]) {
        return Err("Invalid request body: auth.identity.methods must be [\"password\"].".into());
    }
    let password = object(&identity["password"], "auth.identity.password", &["user"])?;
    let user = object(
        &password["user"],
        "auth.identity.password.user",
        &["name", "password", "domain"],
    )?;
    let name = string(user, "auth.identity.password.user", "name")?;
    let secret = string(user, "auth.identity.password.user", "password")?;
    let domain = object(&user["domain"], "auth.identity.password.user.domain", &["name"])?;
    let domain = string(domain, "auth.identity.password.user.domain", "name")?;
    let scope = object(&auth["scope"], "auth.scope", &["project"])?;
    let project = object(&scope["project"], "auth.scope.project", &["id"])?;
    let id = string(project, "auth.scope.project", "id")?;
    if id != project_id {
        return Err(format!(
            "Invalid request body: auth.scope.project.id {id:?} is not a project of this account."
        ));
    }
    Ok((name.to_string(), secret.to_string(), domain.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_format() {
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339_micros(1_586_850_540_123_456), "2020-04-14T07:49:00.123456Z");
    }

    #[test]
    fn tokens_are_unique_by_their_first_eight_characters() {
        let mut rng = 7;
        let a = make_token(0, &mut rng);
        let b = make_token(1, &mut rng);
        assert_eq!(a.len(), TOKEN_LEN);
        assert_ne!(a[..8], b[..8]);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn content_types() {
        for ok in [
            "application/json",
            "application/json;charset=UTF-8",
            "application/json; charset=utf-8",
            "Application/JSON",
        ] {
            assert_eq!(check_content_type(&[ok]), Ok(()), "{ok}");
        }
        for bad in ["text/plain", "application/json;charset=latin1", "application/jsonx", ""] {
            assert!(check_content_type(&[bad]).is_err(), "{bad}");
        }
        assert!(check_content_type(&[]).is_err());
        assert!(check_content_type(&["application/json", "application/json"]).is_err());
    }
}
