//! Sending one batch to LTS over HTTP(S) with ureq, on the worker thread,
//! and classifying the answer.

use std::sync::Mutex;
use std::time::Duration;

use ureq::Agent;

use crate::answer::summarize;
use crate::auth::Auth;
use crate::config::Config;
use crate::delivery::{Deliver, Outcome, RetryCause};
use crate::payload::Payload;

/// The one `Content-Type` LTS accepts.
const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// The longest answer body read (error messages are short).
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Sends batches, each to its destination's reporting URL.
pub(crate) struct Transport {
    agent: Agent,
    auth: Mutex<Auth>,
}

/// The input buffer a connection keeps: ureq's limit for an answer's head
/// (see [`Transport::new`]).
const CONNECTION_INPUT_BUFFER: usize = 64 * 1024;

/// The output buffer a connection keeps (see [`Transport::new`]).
const CONNECTION_OUTPUT_BUFFER: usize = 16 * 1024;

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Transport, crate::Error> {
        let agent = Agent::config_builder()
            .proxy(crate::proxy::agent_proxy(&config.proxy, config.setting_name("proxy"))?)
            .http_status_as_error(false)
            // LTS never redirects a report, and a followed redirect would
            // carry the token (or a signed request, or IAM's password) to
            // another origin: a 3xx comes back as it is and is refused.
            .max_redirects(0)
            .timeout_global(Some(config.request_timeout))
            .user_agent(concat!("lts-rust/", env!("CARGO_PKG_VERSION")))
            // One connection a sender thread, kept between requests.
            .max_idle_connections_per_host(config.max_in_flight.max(2))
            // Buffers a connection keeps for its life (ureq's default is
            // 128 KiB each way, 4 MiB for 16 connections, outside the queue
            // budget). An answer's head must fit the input buffer, which
            // does not grow: it stays at ureq's limit for a head. A body
            // larger than the output buffer is written in pieces of its size.
            .input_buffer_size(CONNECTION_INPUT_BUFFER)
            .output_buffer_size(CONNECTION_OUTPUT_BUFFER)
            .tls_config(crate::tls::tls_config(&config.tls)?)
            .build()
            .new_agent();
        Ok(Transport {
            agent,
            auth: Mutex::new(Auth::new(&config.credentials, &config.endpoint, &config.project_id)),
        })
    }

    /// Sends one body. `timeout` bounds the whole request (and the token
    /// fetch before it, if one is due).
    pub(crate) fn send(&self, payload: &Payload, timeout: Duration, random: u64) -> Outcome {
        let wire: &[u8] = &payload.wire;
        // The credential is shared by the sender threads: one fetches a
        // token while the others wait for it.
        if let Err(message) = self.auth().ready(&self.agent, timeout, random) {
            return Outcome::NoCredentials { message };
        }
        let mut req = self
            .agent
            .post(&payload.dest.url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", CONTENT_TYPE);
        if let Some(enc) = payload.content_encoding() {
            req = req.header("Content-Encoding", enc);
        }
        req = self.auth().apply(req, CONTENT_TYPE, &payload.dest.path, wire);
        let mut resp = match req.send(wire) {
            Ok(resp) => resp,
            Err(e) => {
                let cause = match e {
                    ureq::Error::Timeout(_) => RetryCause::Timeout,
                    _ => RetryCause::Connection,
                };
                return Outcome::Retry {
                    reason: describe(&e),
                    retry_after: None,
                    cause,
                };
            }
        };
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let location = resp.headers().get("location").and_then(|v| v.to_str().ok());
            return Outcome::Rejected {
                status,
                answer: redirect_answer(location),
            };
        }
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

    fn auth(&self) -> std::sync::MutexGuard<'_, Auth> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Deliver for Transport {
    fn send(&self, payload: &Payload, timeout: Duration, random: u64) -> Outcome {
        Transport::send(self, payload, timeout, random)
    }

    /// Called after a 401 so the next attempt can use fresh credentials.
    fn renew(&self) -> bool {
        self.auth().on_unauthorized()
    }
}

/// Classifies a status code and answer.
pub(crate) fn classify(status: u16, answer: String, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        401 => Outcome::Unauthorized {
            answer: summarize(&answer),
            renewable: false,
        },
        408 | 429 | 500..=599 => Outcome::Retry {
            reason: format!("HTTP {status}: {}", summarize(&answer)),
            retry_after,
            cause: match status {
                429 => RetryCause::Throttled,
                503 => RetryCause::Unavailable,
                _ => RetryCause::Status,
            },
        },
        _ => Outcome::Rejected {
            status,
            answer: summarize(&answer),
        },
    }
}

/// What a 3xx answer says, for the error hook: where it pointed (scheme,
/// host, port and path only: a query could carry anything) and that it was
/// not followed.
pub(crate) fn redirect_answer(location: Option<&str>) -> String {
    let target = match location {
        Some(l) => {
            let end = l.find(['?', '#']).unwrap_or(l.len());
            let shown: String = l[..end].chars().filter(|c| !c.is_control()).take(200).collect();
            format!("a redirect to {shown}")
        }
        None => "a redirect without a Location".to_owned(),
    };
    format!(
        "{target}; redirects are not followed, so no credential leaves for another origin \
         (LTS never redirects a report: check LTS_ENDPOINT and what stands in between)"
    )
}

fn describe(e: &ureq::Error) -> String {
    if is_certificate_error(e) {
        return format!(
            "the server's TLS certificate was not accepted ({e}): trust its CA with LTS_CA_FILE \
             (builder ca_file; a self-signed server certificate must not be marked as a CA: \
             openssl req -x509 ... -addext basicConstraints=critical,CA:FALSE), \
             or, for a test setup only, LTS_INSECURE_SKIP_VERIFY=true"
        );
    }
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Io(io) => format!("connection error: {io}"),
        other => other.to_string(),
    }
}

/// Whether a request failed on the server's certificate, whichever TLS
/// backend said so (rustls wraps its errors in an I/O error, native TLS in
/// its own).
fn is_certificate_error(e: &ureq::Error) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        if c.to_string().to_ascii_lowercase().contains("certificate") {
            return true;
        }
        cause = c.source();
    }
    false
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
    fn a_redirect_names_where_it_pointed_but_not_its_query() {
        let a = redirect_answer(Some("http://other.example:8080/v2/x?token=abc#f"));
        assert!(
            a.starts_with("a redirect to http://other.example:8080/v2/x; redirects are not followed"),
            "{a}"
        );
        assert!(!a.contains("abc"), "{a}");
        assert!(redirect_answer(None).starts_with("a redirect without a Location;"));
    }
}
