//! One getter per setting of a built [`Config`], in the order of the table
//! on [`Config`] (the endpoint, API, clock and shutdown wait have theirs
//! beside the type). A getter returns the value in effect: defaults filled
//! in, caps clamped, the endpoint normalized.

use std::path::Path;
use std::time::Duration;

use super::{Compression, Config, Credentials, Overflow, RetryPolicy};
use crate::format::Format;
use crate::proxy::Proxy;
use crate::route::Route;
use crate::tls::TlsRoots;

impl Config {
    /// The project id.
    ///
    /// ```
    /// # let config = lts_core::Config::builder().region("eu-de").token("t")
    /// #     .project_id("0123456789abcdef0123456789abcdef")
    /// #     .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
    /// #     .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
    /// #     .build()?;
    /// assert_eq!(config.project_id(), "0123456789abcdef0123456789abcdef");
    /// assert_eq!(config.batch_max_events(), 8192); // the default
    /// assert_eq!(config.labels().count(), 0);
    /// # Ok::<(), lts_core::Error>(())
    /// ```
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The log group id.
    pub fn log_group_id(&self) -> &str {
        &self.log_group_id
    }

    /// The log stream id.
    pub fn log_stream_id(&self) -> &str {
        &self.log_stream_id
    }

    /// The credentials (their `Debug` hides the secrets).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The labels sent with every batch, sorted by key.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The routes, in the order they are tried.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The fields whose values label batches.
    pub fn label_fields(&self) -> impl Iterator<Item = &str> + '_ {
        self.label_fields.iter().map(String::as_str)
    }

    /// The `tenant_project_id` sent in the default stream's bodies (and
    /// every route's that names none), if set.
    pub fn tenant_project_id(&self) -> Option<&str> {
        self.tenant_project_id.as_deref()
    }

    /// The most batches open at once.
    pub fn max_open_batches(&self) -> usize {
        self.max_open_batches
    }

    /// The body compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The gzip level (0 to 9), used when the compression is gzip.
    pub fn gzip_level(&self) -> u32 {
        self.gzip_level
    }

    /// The log line format.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The most events in one request (after clamping).
    pub fn batch_max_events(&self) -> usize {
        self.batch_max_events
    }

    /// The most bytes of encoded body in one request (after clamping).
    pub fn batch_max_bytes(&self) -> usize {
        self.batch_max_bytes
    }

    /// The longest an event waits for its batch to fill.
    pub fn linger(&self) -> Duration {
        self.linger
    }

    /// The memory budget of the pipeline, in bytes.
    pub fn queue_bytes(&self) -> usize {
        self.queue_bytes
    }

    /// What `send` does when the budget is used up.
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// The longest one request may take.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// The longest log line in bytes.
    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// How far from now an event's time may be before it is dropped.
    pub fn time_window(&self) -> Duration {
        self.time_window
    }

    /// The disk spool's directory, when the spool is on.
    pub fn spool_dir(&self) -> Option<&Path> {
        self.spool_dir.as_deref()
    }

    /// The most bytes the spool may hold on disk.
    pub fn spool_max_bytes(&self) -> u64 {
        self.spool_max_bytes
    }

    /// The PEM file of extra CA certificates, when one is set.
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.ca_file.as_deref()
    }

    /// Whether TLS certificate verification is off.
    pub fn danger_accept_invalid_certs(&self) -> bool {
        self.tls.danger_accept_invalid_certs
    }

    /// Which roots are trusted.
    pub fn tls_roots(&self) -> TlsRoots {
        self.tls.roots
    }

    /// The client certificate's PEM files (certificate chain, private key),
    /// when mutual TLS is set up.
    pub fn client_cert(&self) -> Option<(&Path, &Path)> {
        self.tls
            .client_cert
            .as_ref()
            .map(|c| (c.cert.as_path(), c.key.as_path()))
    }

    /// The proxy setting.
    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Compression, Config, Overflow, RetryPolicy};

    /// Every getter returns what its setter set (a value other than the
    /// default, so a getter returning the default would fail).
    #[test]
    fn every_getter_returns_what_was_set() {
        let retry = RetryPolicy {
            max_tries: 3,
            base: Duration::from_millis(7),
            max: Duration::from_millis(70),
        };
        let c = Config::builder()
            .endpoint("http://127.0.0.1:8102/")
            .project_id("0123456789abcdef0123456789abcdef")
            .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
            .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
            .token("tok")
            .label("b", "2")
            .label("a", "1")
            .compression(Compression::None)
            .gzip_level(6)
            .format(crate::Format::Text)
            .batch_max_events(100)
            .batch_max_bytes(8192)
            .linger(Duration::from_millis(5))
            .queue_bytes(1 << 20)
            .overflow(Overflow::Block {
                max: Duration::from_millis(9),
            })
            .request_timeout(Duration::from_millis(1234))
            .retry(retry)
            .max_line_bytes(4096)
            .time_window(Duration::from_secs(60))
            .spool_dir("/tmp/lts-spool")
            .spool_max_bytes(12345)
            .danger_accept_invalid_certs(true)
            .client_cert("tests/tls/client.pem", "tests/tls/client.key")
            .proxy(crate::Proxy::None)
            .build()
            .unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:8102");
        assert_eq!(c.project_id(), "0123456789abcdef0123456789abcdef");
        assert_eq!(c.log_group_id(), "0a1b2c3d-0000-4000-8000-000000000001");
        assert_eq!(c.log_stream_id(), "0a1b2c3d-0000-4000-8000-000000000002");
        assert_eq!(format!("{:?}", c.credentials()), "Token(***)");
        assert_eq!(c.labels().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        assert_eq!(c.compression(), Compression::None);
        assert_eq!(c.gzip_level(), 6);
        assert!(matches!(c.format(), crate::Format::Text));
        assert_eq!((c.batch_max_events(), c.batch_max_bytes()), (100, 8192));
        assert_eq!(c.linger(), Duration::from_millis(5));
        assert_eq!(c.queue_bytes(), 1 << 20);
        assert_eq!(
            c.overflow(),
            Overflow::Block {
                max: Duration::from_millis(9)
            }
        );
        assert_eq!(c.request_timeout(), Duration::from_millis(1234));
        assert_eq!(c.retry(), retry);
        assert_eq!(c.max_line_bytes(), 4096);
        assert_eq!(c.time_window(), Duration::from_secs(60));
        assert_eq!(c.spool_dir(), Some(std::path::Path::new("/tmp/lts-spool")));
        assert_eq!(c.spool_max_bytes(), 12345);
        assert_eq!(c.ca_file(), None);
        assert!(c.danger_accept_invalid_certs());
        assert_eq!(c.tls_roots(), crate::TlsRoots::Bundled);
        assert_eq!(
            c.client_cert(),
            Some((
                std::path::Path::new("tests/tls/client.pem"),
                std::path::Path::new("tests/tls/client.key")
            ))
        );
        assert_eq!(c.proxy(), &crate::Proxy::None);
    }
}
