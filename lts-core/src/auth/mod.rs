//! Authenticating requests: a static token, IAM tokens fetched and renewed
//! ahead of expiry, a token provider of the user's, or AK/SK signing.

mod iam;
pub(crate) mod sign;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ureq::typestate::WithBody;
use ureq::{Agent, RequestBuilder};

use crate::secret::Secret;

/// A source of IAM tokens of your own (a secrets manager, an agency token).
///
/// Called on the shipper's background thread when it has no token, and
/// again after LTS refused the last one with 401 (`refused` is then true:
/// return a fresh token, not the cached one). An error is reported through
/// the error hook and the batch waits and retries with backoff.
///
/// # Example
///
/// ```
/// use lts_core::{Config, Secret, TokenProvider};
///
/// struct FromVault;
///
/// impl TokenProvider for FromVault {
///     fn token(&self, refused: bool) -> Result<Secret, Box<dyn std::error::Error + Send + Sync>> {
///         // `refused`: LTS said 401 to the last token; fetch a fresh one.
///         let _ = refused;
///         Ok(Secret::new(std::fs::read_to_string("/run/secrets/lts-token")?.trim()))
///     }
/// }
///
/// let builder = Config::builder().token_provider(FromVault);
/// # let _ = builder;
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// Returns the token to send as `X-Auth-Token`.
    fn token(&self, refused: bool) -> Result<Secret, Box<dyn std::error::Error + Send + Sync>>;
}

/// Whether a value can be sent as a header value: visible ASCII, not empty.
fn is_header_value(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// A token and when to renew it.
struct Cached {
    token: Secret,
    /// Renew from this instant on (80% of the token's life, less jitter).
    renew_at: Instant,
    /// The token is no good from this instant on.
    expires_at: Instant,
}

enum Kind {
    Static(Secret),
    Iam {
        client: iam::Client,
        cached: Option<Cached>,
    },
    Provider {
        provider: Arc<dyn TokenProvider>,
        cached: Option<Secret>,
        refused: bool,
    },
    AkSk {
        access_key: String,
        secret_key: Secret,
    },
}

/// The worker's view of the credentials.
pub(crate) struct Auth {
    kind: Kind,
    /// The `Host` header: signed with AK/SK, so it is set explicitly.
    host: String,
}

impl Auth {
    pub(crate) fn new(credentials: &Credentials, endpoint: &str, project_id: &str) -> Auth {
        let kind = match credentials {
            Credentials::Token(t) => Kind::Static(t.clone()),
            Credentials::Iam {
                endpoint: iam_endpoint,
                user,
                password,
                domain,
                project_id: scope,
            } => Kind::Iam {
                client: iam::Client::new(
                    iam_endpoint.as_deref().unwrap_or_default(),
                    user,
                    password,
                    domain,
                    scope.as_deref().unwrap_or(project_id),
                ),
                cached: None,
            },
            Credentials::Provider(p) => Kind::Provider {
                provider: p.clone(),
                cached: None,
                refused: false,
            },
            Credentials::AkSk { access_key, secret_key } => Kind::AkSk {
                access_key: access_key.clone(),
                secret_key: secret_key.clone(),
            },
        };
        let authority = endpoint.split_once("://").map_or(endpoint, |(_, a)| a);
        Auth {
            kind,
            host: authority.to_owned(),
        }
    }

    /// Makes sure there is a usable credential, fetching or renewing a token
    /// when it is time. An error says why none can be had (the message
    /// holds no secret).
    pub(crate) fn ready(&mut self, agent: &Agent, timeout: Duration, random: u64) -> Result<(), String> {
        let now = Instant::now();
        match &mut self.kind {
            Kind::Static(_) | Kind::AkSk { .. } => Ok(()),
            Kind::Provider {
                provider,
                cached,
                refused,
            } => {
                if cached.is_some() {
                    return Ok(());
                }
                // A provider is the user's code: a panic in it is a failure
                // to get a token, not the end of the shipper.
                let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| provider.token(*refused)));
                match asked {
                    Ok(Ok(t)) if is_header_value(t.expose()) => {
                        *cached = Some(t);
                        *refused = false;
                        Ok(())
                    }
                    Ok(Ok(_)) => Err("the token provider returned a token that cannot go in an HTTP header \
                                      (empty, or not visible ASCII)"
                        .into()),
                    Ok(Err(e)) => Err(format!("the token provider failed: {e}")),
                    Err(panic) => {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "a non-string payload".into());
                        Err(format!("the token provider panicked: {what}"))
                    }
                }
            }
            Kind::Iam { client, cached } => {
                if cached.as_ref().is_some_and(|c| now < c.renew_at) {
                    return Ok(());
                }
                match client.fetch(agent, timeout) {
                    Ok((token, expires)) => {
                        let life = expires
                            .and_then(|e| e.duration_since(SystemTime::now()).ok())
                            .unwrap_or(Duration::from_secs(3600));
                        // Renew at 80% of the life, less up to 5% of jitter,
                        // so many processes do not renew in step.
                        let jitter = life.mul_f64((random % 1000) as f64 / 20_000.0);
                        *cached = Some(Cached {
                            token,
                            renew_at: now + life.mul_f64(0.8) - jitter,
                            expires_at: now + life,
                        });
                        Ok(())
                    }
                    Err(e) => match cached {
                        // Renewal failed but the token still works: keep it,
                        // try again in a while.
                        Some(c) if now < c.expires_at => {
                            c.renew_at = now + (c.expires_at - now).div_f64(2.0).min(Duration::from_secs(60));
                            Ok(())
                        }
                        _ => {
                            *cached = None;
                            Err(e)
                        }
                    },
                }
            }
        }
    }

    /// Adds the authentication headers to a request to `path` (its URL's
    /// path, which AK/SK signs) with this body.
    pub(crate) fn apply(
        &self,
        req: RequestBuilder<WithBody>,
        content_type: &str,
        path: &str,
        body: &[u8],
    ) -> RequestBuilder<WithBody> {
        match &self.kind {
            Kind::Static(t) => req.header("X-Auth-Token", t.expose()),
            Kind::Iam { cached, .. } => match cached {
                Some(c) => req.header("X-Auth-Token", c.token.expose()),
                None => req,
            },
            Kind::Provider { cached, .. } => match cached {
                Some(t) => req.header("X-Auth-Token", t.expose()),
                None => req,
            },
            Kind::AkSk { access_key, secret_key } => {
                let date = sign::sdk_date(SystemTime::now());
                let headers = [
                    ("content-type", content_type),
                    ("host", &self.host),
                    ("x-sdk-date", &date),
                ];
                let authorization = sign::authorization(
                    access_key,
                    secret_key.expose(),
                    &date,
                    &sign::Request {
                        method: "POST",
                        path,
                        query: "",
                        headers: &headers,
                        body,
                    },
                );
                req.header("Host", &self.host)
                    .header("X-Sdk-Date", &date)
                    .header("Authorization", authorization)
            }
        }
    }

    /// A 401 came back: forget the token so the next attempt gets a new one.
    /// Returns whether a new credential can be had (not for a static token
    /// or a key pair).
    pub(crate) fn on_unauthorized(&mut self) -> bool {
        match &mut self.kind {
            Kind::Static(_) | Kind::AkSk { .. } => false,
            Kind::Iam { cached, .. } => {
                *cached = None;
                true
            }
            Kind::Provider { cached, refused, .. } => {
                *cached = None;
                *refused = true;
                true
            }
        }
    }
}

/// How requests are authenticated. Exactly one kind is configured.
///
/// # Example
///
/// ```
/// use lts_core::{Config, Credentials, Secret};
///
/// let builder = Config::builder().credentials(Credentials::AkSk {
///     access_key: "AK0123".into(),
///     secret_key: Secret::new("sk-secret"),
/// });
/// assert!(!format!("{builder:?}").contains("sk-secret"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A static IAM token, sent as `X-Auth-Token`. Tokens end after 24
    /// hours and cannot be renewed: a 401 is retried with backoff a bounded
    /// number of times. For demos and short jobs.
    Token(Secret),
    /// An IAM user: the shipper fetches a token from
    /// `POST {endpoint}/v3/auth/tokens?nocatalog=true`, renews it at about
    /// 80% of its life, and at once after a 401 from LTS.
    Iam {
        /// The IAM endpoint; by default `https://iam.{region}.myhuaweicloud.com`
        /// (Open Telekom Cloud: `https://iam.eu-de.otc.t-systems.com`).
        endpoint: Option<String>,
        /// The IAM user name.
        user: String,
        /// The user's password.
        password: Secret,
        /// The account (domain) name.
        domain: String,
        /// The project the token is scoped to; by default the LTS project id.
        project_id: Option<String>,
    },
    /// Your own token source, asked again after a 401.
    Provider(Arc<dyn TokenProvider>),
    /// An access key pair: every request is signed with SDK-HMAC-SHA256 over
    /// the exact body bytes sent.
    AkSk {
        /// The access key id (AK).
        access_key: String,
        /// The secret access key (SK).
        secret_key: Secret,
    },
}

impl Credentials {
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Credentials::Token(_) => "token",
            Credentials::Iam { .. } => "IAM user",
            Credentials::Provider(_) => "token provider",
            Credentials::AkSk { .. } => "access key",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(***)"),
            Credentials::Iam {
                endpoint,
                user,
                domain,
                project_id,
                ..
            } => f
                .debug_struct("Iam")
                .field("endpoint", endpoint)
                .field("user", user)
                .field("password", &"***")
                .field("domain", domain)
                .field("project_id", project_id)
                .finish(),
            Credentials::Provider(_) => f.write_str("Provider(..)"),
            Credentials::AkSk { access_key, .. } => f
                .debug_struct("AkSk")
                .field("access_key", access_key)
                .field("secret_key", &"***")
                .finish(),
        }
    }
}
