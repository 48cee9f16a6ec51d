//! Authenticating requests: puts the credentials on each request.

use ureq::typestate::WithBody;
use ureq::RequestBuilder;

use crate::config::{Credentials, Secret};

/// The worker's view of the credentials.
pub(crate) struct Auth {
    token: Secret,
}

impl Auth {
    pub(crate) fn new(credentials: &Credentials) -> Auth {
        match credentials {
            Credentials::Token(t) => Auth { token: t.clone() },
        }
    }

    /// Adds the authentication headers to a request.
    pub(crate) fn apply(&self, req: RequestBuilder<WithBody>) -> RequestBuilder<WithBody> {
        req.header("X-Auth-Token", self.token.expose())
    }

    /// A 401 came back. A static token cannot be renewed: the batch is
    /// retried with backoff a bounded number of times.
    pub(crate) fn on_unauthorized(&mut self) {}
}
