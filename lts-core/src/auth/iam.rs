//! Fetching an IAM token with a password identity and a project scope.

use std::time::{Duration, SystemTime};

use ureq::Agent;

use crate::encode::write_json_str;
use crate::secret::Secret;

pub(super) struct Client {
    url: String,
    /// The request body; it holds the password.
    body: Secret,
}

impl Client {
    pub(super) fn new(endpoint: &str, user: &str, password: &Secret, domain: &str, project_id: &str) -> Client {
        let s = |v: &str| {
            let mut out = String::new();
            write_json_str(&mut out, v);
            out
        };
        let body = format!(
            r#"{{"auth":{{"identity":{{"methods":["password"],"password":{{"user":{{"name":{},"password":{},"domain":{{"name":{}}}}}}}}},"scope":{{"project":{{"id":{}}}}}}}}}"#,
            s(user),
            s(password.expose()),
            s(domain),
            s(project_id)
        );
        Client {
            url: format!("{}/v3/auth/tokens?nocatalog=true", endpoint.trim_end_matches('/')),
            body: Secret::new(body),
        }
    }

    /// Fetches a token and its end. The error says what IAM answered,
    /// without any secret.
    pub(super) fn fetch(&self, agent: &Agent, timeout: Duration) -> Result<(Secret, Option<SystemTime>), String> {
        let resp = agent
            .post(&self.url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "application/json;charset=UTF-8")
            .send(self.body.expose().as_bytes());
        let mut resp = resp.map_err(|e| format!("IAM at {} could not be reached: {e}", self.url))?;
        let status = resp.status().as_u16();
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(format!(
                "IAM refused the token request with HTTP {status}: {}",
                iam_message(&answer)
            ));
        }
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("IAM answered HTTP {status} without an X-Subject-Token header"))?;
        let expires = serde_json::from_str::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v["token"]["expires_at"].as_str().map(str::to_owned))
            .and_then(|s| humantime::parse_rfc3339_weak(&s).ok());
        Ok((Secret::new(token), expires))
    }
}

/// IAM's error bodies are `{"error":{"code":..,"message":..,"title":..}}`;
/// other shapes are summarized like LTS's.
fn iam_message(answer: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(answer) {
        if let Some(m) = v["error"]["message"].as_str() {
            let code = v["error"]["code"].as_u64().map(|c| format!("{c} ")).unwrap_or_default();
            return format!("{code}{m}");
        }
    }
    crate::answer::summarize(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_body_has_the_documented_shape_and_escapes_values() {
        let c = Client::new("https://iam.x/", "u\"1", &Secret::new("p"), "acct", "proj");
        assert_eq!(c.url, "https://iam.x/v3/auth/tokens?nocatalog=true");
        let v: serde_json::Value = serde_json::from_str(c.body.expose()).unwrap();
        assert_eq!(v["auth"]["identity"]["methods"][0], "password");
        assert_eq!(v["auth"]["identity"]["password"]["user"]["name"], "u\"1");
        assert_eq!(v["auth"]["identity"]["password"]["user"]["password"], "p");
        assert_eq!(v["auth"]["identity"]["password"]["user"]["domain"]["name"], "acct");
        assert_eq!(v["auth"]["scope"]["project"]["id"], "proj");
    }

    #[test]
    fn iam_error_bodies_are_read() {
        assert_eq!(
            iam_message(
                r#"{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}"#
            ),
            "401 The username or password is wrong."
        );
    }
}
