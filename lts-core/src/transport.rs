//! Sending one batch to LTS over HTTP(S) with ureq, on the worker thread,
//! and classifying the answer.

use std::path::Path;
use std::time::Duration;

use ureq::tls::{Certificate, PemItem};
use ureq::Agent;

use crate::auth::Auth;
use crate::config::Config;

/// The one `Content-Type` LTS accepts.
const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// The longest answer body read (error messages are short).
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx: delivered.
    Delivered,
    /// A status that will not get better by sending the same body again.
    Rejected { status: u16, answer: String },
    /// 401: the credentials were refused.
    Unauthorized { answer: String },
    /// No credential could be had (IAM refused or unreachable, the
    /// provider failed); nothing was sent.
    NoCredentials { message: String },
    /// Worth retrying: 408, 429, 5xx, a timeout or a connection error.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// Sends batches to one reporting URL.
pub(crate) struct Transport {
    agent: Agent,
    url: String,
    auth: Auth,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Transport, crate::Error> {
        let agent = Agent::config_builder()
            .proxy(crate::proxy::agent_proxy(&config.proxy, "proxy")?)
            .http_status_as_error(false)
            .timeout_global(Some(config.request_timeout))
            .user_agent(concat!("lts-rust/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(2)
            .tls_config(crate::tls::tls_config(&config.tls)?)
            .build()
            .new_agent();
        Ok(Transport {
            agent,
            url: config.report_url(),
            auth: Auth::new(
                &config.credentials,
                &config.endpoint,
                &config.report_url(),
                &config.project_id,
            ),
        })
    }

    /// Sends one body. `timeout` bounds the whole request (and the token
    /// fetch before it, if one is due).
    pub(crate) fn send(
        &mut self,
        wire: &[u8],
        content_encoding: Option<&str>,
        timeout: Duration,
        random: u64,
    ) -> Outcome {
        if let Err(message) = self.auth.ready(&self.agent, timeout, random) {
            return Outcome::NoCredentials { message };
        }
        let mut req = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", CONTENT_TYPE);
        if let Some(enc) = content_encoding {
            req = req.header("Content-Encoding", enc);
        }
        req = self.auth.apply(req, CONTENT_TYPE, wire);
        let mut resp = match req.send(wire) {
            Ok(resp) => resp,
            Err(e) => {
                return Outcome::Retry {
                    reason: describe(&e),
                    retry_after: None,
                }
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Read the answer in full so the connection can be reused.
        let answer = resp
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .unwrap_or_default();
        classify(status, answer, retry_after)
    }

    /// Called after a 401 so the next attempt can use fresh credentials.
    /// Returns whether fresh ones can be had.
    pub(crate) fn on_unauthorized(&mut self) -> bool {
        self.auth.on_unauthorized()
    }
}

/// Classifies a status code and answer.
pub(crate) fn classify(status: u16, answer: String, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        401 => Outcome::Unauthorized {
            answer: summarize(&answer),
        },
        408 | 429 | 500..=599 => Outcome::Retry {
            reason: format!("HTTP {status}: {}", summarize(&answer)),
            retry_after,
        },
        _ => Outcome::Rejected {
            status,
            answer: summarize(&answer),
        },
    }
}

/// The service's error code and message when the answer is one of its JSON
/// error bodies (any of the spellings LTS uses), else the answer's start.
pub(crate) fn summarize(answer: &str) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(answer) {
        let pick = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        };
        let code = pick(&["errorCode", "error_code", "code"]);
        let msg = pick(&["error_msg", "errorMessage", "error_message", "message", "msg"]);
        if code.is_some() || msg.is_some() {
            return format!("{} {}", code.unwrap_or_default(), msg.unwrap_or_default())
                .trim()
                .to_owned();
        }
    }
    let mut s: String = answer.chars().filter(|c| !c.is_control()).take(300).collect();
    if s.is_empty() {
        s.push_str("(empty answer)");
    }
    s
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Io(io) => format!("connection error: {io}"),
        other => other.to_string(),
    }
}

/// Reads the certificates of a PEM file; an error if it holds none.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| e.to_string())?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let PemItem::Certificate(c) = item.map_err(|e| e.to_string())? {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err("no PEM certificate in the file".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_api_digest_says() {
        assert_eq!(classify(200, String::new(), None), Outcome::Delivered);
        assert!(matches!(
            classify(400, String::new(), None),
            Outcome::Rejected { status: 400, .. }
        ));
        assert!(matches!(
            classify(413, String::new(), None),
            Outcome::Rejected { status: 413, .. }
        ));
        assert!(matches!(
            classify(401, String::new(), None),
            Outcome::Unauthorized { .. }
        ));
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(matches!(classify(s, String::new(), None), Outcome::Retry { .. }), "{s}");
        }
    }

    #[test]
    fn error_bodies_are_read_in_every_spelling() {
        assert_eq!(
            summarize(r#"{"errorCode":"SVCSTG.ALS.400.001","error_msg":"bad body","result":null}"#),
            "SVCSTG.ALS.400.001 bad body"
        );
        assert_eq!(summarize(r#"{"errorCode":"X","errorMessage":"m"}"#), "X m");
        assert_eq!(
            summarize(r#"{"error_code":"LTS.0009","error_msg":"invalid"}"#),
            "LTS.0009 invalid"
        );
        assert_eq!(summarize("<html>\nbad gateway</html>"), "<html>bad gateway</html>");
        assert_eq!(summarize(""), "(empty answer)");
    }

    #[test]
    fn a_ca_file_without_certificates_is_an_error() {
        let dir = std::env::temp_dir().join(format!("lts-ca-test-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate").unwrap();
        assert_eq!(read_ca_file(&dir).unwrap_err(), "no PEM certificate in the file");
        std::fs::remove_file(&dir).unwrap();
        assert!(read_ca_file(Path::new("/nonexistent/x.pem")).is_err());
    }
}
