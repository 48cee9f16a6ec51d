//! TLS: which library, which roots, extra CA certificates, client
//! certificates (mutual TLS). The settings are checked when the [`Config`]
//! is built (a missing or unreadable file is an error naming the setting);
//! [`tls_config`] turns them into ureq's [`TlsConfig`] when the transport
//! starts.
//!
//! The library is chosen by Cargo features: `native-tls` when that feature
//! is on (the platform's library: OpenSSL, Secure Transport, SChannel),
//! else rustls (the default feature). The roots are chosen at run time
//! ([`TlsRoots`]): the bundled Mozilla roots by default, or the operating
//! system's trust store.
//!
//! [`Config`]: crate::Config

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
compile_error!("lts-core needs a TLS library: enable its `rustls` (default) or `native-tls` feature");

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};

use crate::error::{Error, ErrorKind};
// One PEM certificate reader, for the CA file and the client chain alike.

/// Which certificate authorities are trusted to vouch for the endpoint.
///
/// ```
/// use lts_core::{Config, TlsRoots};
///
/// // Trust what the operating system trusts (corporate CAs installed there
/// // included); needs the `platform-verifier` or `native-tls` feature.
/// let builder = Config::builder().tls_roots(TlsRoots::System);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsRoots {
    /// The Mozilla roots bundled into the program (`webpki-root-certs`),
    /// plus the certificates of [`ca_file`](crate::ConfigBuilder::ca_file)
    /// if one is set. The same on every machine. The default.
    #[default]
    Bundled,
    /// The operating system's trust store: through
    /// `rustls-platform-verifier` with rustls (feature `platform-verifier`),
    /// or the platform library's own store with `native-tls`. Cannot be
    /// combined with a `ca_file`: install the CA in the system store instead.
    System,
}

/// The PEM files of a client certificate and its private key, for endpoints
/// (or TLS-inspecting gateways) that require mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientCertFiles {
    /// The certificate chain, leaf first.
    pub(crate) cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1; PKCS#8 with `native-tls`).
    pub(crate) key: PathBuf,
}

/// TLS settings. Verification is on by default. Crate-private: users set
/// them through the builder and read them through the getters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Tls {
    /// A PEM file with CA certificates to trust in addition to the bundled
    /// Mozilla roots (for endpoints with a private CA).
    pub(crate) ca_file: Option<PathBuf>,
    /// Accept any certificate. Dangerous: anyone on the path can read the
    /// token and the logs. For test setups only.
    pub(crate) danger_accept_invalid_certs: bool,
    /// The roots trusted.
    pub(crate) roots: TlsRoots,
    /// The client certificate, for mutual TLS.
    pub(crate) client_cert: Option<ClientCertFiles>,
}

/// How the errors of [`check`] name the settings: the environment
/// variables or the builder methods.
pub(crate) struct SettingNames {
    pub(crate) ca_file: &'static str,
    pub(crate) roots: &'static str,
    pub(crate) client_cert: &'static str,
    pub(crate) client_key: &'static str,
}

/// Checks the settings now, reading every file, so a wrong path or a file
/// without what it should hold is a start-up error, not a runtime surprise.
pub(crate) fn check(tls: &Tls, names: &SettingNames) -> Result<(), Error> {
    if let Some(path) = &tls.ca_file {
        read_ca_file(path).map_err(|e| file_error(names.ca_file, "CA file", path, &e))?;
    }
    if tls.roots == TlsRoots::System {
        if tls.ca_file.is_some() {
            return Err(Error::new(
                ErrorKind::ConflictingConfig,
                Some(names.roots),
                "the system trust store cannot be combined with a CA file: install the CA in the system store, or use the bundled roots",
            ));
        }
        if !cfg!(any(feature = "platform-verifier", feature = "native-tls")) {
            return Err(Error::invalid(
                names.roots,
                "the system trust store needs lts-core's `platform-verifier` (or `native-tls`) feature",
            ));
        }
    }
    if let Some(files) = &tls.client_cert {
        client_cert(files, names)?;
    }
    Ok(())
}

/// ureq's TLS configuration for checked settings.
pub(crate) fn tls_config(tls: &Tls) -> Result<TlsConfig, Error> {
    let names = SettingNames {
        ca_file: "ca_file",
        roots: "tls_roots",
        client_cert: "client_cert",
        client_key: "client_cert",
    };
    let provider = if cfg!(feature = "native-tls") {
        TlsProvider::NativeTls
    } else {
        TlsProvider::Rustls
    };
    let roots = match (tls.roots, &tls.ca_file) {
        (TlsRoots::System, _) => RootCerts::PlatformVerifier,
        (TlsRoots::Bundled, None) => RootCerts::WebPki,
        (TlsRoots::Bundled, Some(path)) => {
            let extra = read_ca_file(path).map_err(|e| file_error(names.ca_file, "CA file", path, &e))?;
            let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned());
            RootCerts::Specific(Arc::new(bundled.chain(extra).collect()))
        }
    };
    let client_cert = match &tls.client_cert {
        Some(files) => Some(client_cert(files, &names)?),
        None => None,
    };
    Ok(TlsConfig::builder()
        .provider(provider)
        .root_certs(roots)
        .client_cert(client_cert)
        .disable_verification(tls.danger_accept_invalid_certs)
        .build())
}

fn client_cert(files: &ClientCertFiles, names: &SettingNames) -> Result<ClientCert, Error> {
    let certs =
        read_ca_file(&files.cert).map_err(|e| file_error(names.client_cert, "client certificate", &files.cert, &e))?;
    let key = read_key(&files.key).map_err(|e| file_error(names.client_key, "client key", &files.key, &e))?;
    Ok(ClientCert::new_with_certs(&certs, key))
}

fn file_error(setting: &str, what: &str, path: &Path, e: &str) -> Error {
    Error::new(
        ErrorKind::Io,
        Some(setting),
        format!("cannot use {what} {}: {e}", path.display()),
    )
}

/// The first private key of a PEM file; an error if it holds none. The
/// error never shows the file's content.
fn read_key(path: &Path) -> Result<PrivateKey<'static>, String> {
    let pem = std::fs::read(path).map_err(|e| e.to_string())?;
    for item in ureq::tls::parse_pem(&pem) {
        if let Ok(PemItem::PrivateKey(k)) = item {
            return Ok(k);
        }
    }
    Err("no PEM private key (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in the file".into())
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
    fn a_ca_file_without_certificates_is_an_error() {
        let dir = std::env::temp_dir().join(format!("lts-ca-test-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate").unwrap();
        assert_eq!(read_ca_file(&dir).unwrap_err(), "no PEM certificate in the file");
        std::fs::remove_file(&dir).unwrap();
        assert!(read_ca_file(Path::new("/nonexistent/x.pem")).is_err());
    }

    fn names() -> SettingNames {
        SettingNames {
            ca_file: "LTS_CA_FILE",
            roots: "LTS_TLS_ROOTS",
            client_cert: "LTS_CLIENT_CERT_FILE",
            client_key: "LTS_CLIENT_KEY_FILE",
        }
    }

    #[test]
    fn a_key_file_without_a_key_is_named_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, include_str!("../tests/tls/client.pem")).unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "secret-looking garbage").unwrap();
        let tls = Tls {
            client_cert: Some(ClientCertFiles { cert, key }),
            ..Tls::default()
        };
        let e = check(&tls, &names()).unwrap_err();
        assert_eq!(e.setting(), Some("LTS_CLIENT_KEY_FILE"));
        assert!(e.to_string().contains("no PEM private key"), "{e}");
        assert!(!e.to_string().contains("garbage"), "{e}");
    }

    #[test]
    fn the_system_store_and_a_ca_file_exclude_each_other() {
        let tls = Tls {
            ca_file: Some("tests/tls/ca.pem".into()),
            roots: TlsRoots::System,
            ..Tls::default()
        };
        let e = check(&tls, &names()).unwrap_err();
        assert_eq!(
            (e.kind(), e.setting()),
            (ErrorKind::ConflictingConfig, Some("LTS_TLS_ROOTS"))
        );
    }

    #[cfg(not(any(feature = "platform-verifier", feature = "native-tls")))]
    #[test]
    fn the_system_store_without_its_feature_names_the_feature() {
        let tls = Tls {
            roots: TlsRoots::System,
            ..Tls::default()
        };
        let e = check(&tls, &names()).unwrap_err();
        assert!(e.to_string().contains("`platform-verifier`"), "{e}");
    }

    #[cfg(any(feature = "platform-verifier", feature = "native-tls"))]
    #[test]
    fn the_system_store_is_the_platform_verifier() {
        let tls = Tls {
            roots: TlsRoots::System,
            ..Tls::default()
        };
        check(&tls, &names()).unwrap();
        assert!(matches!(
            tls_config(&tls).unwrap().root_certs(),
            RootCerts::PlatformVerifier
        ));
    }

    #[test]
    fn the_library_follows_the_features() {
        let config = tls_config(&Tls::default()).unwrap();
        let expected = if cfg!(feature = "native-tls") {
            TlsProvider::NativeTls
        } else {
            TlsProvider::Rustls
        };
        assert_eq!(config.provider(), expected);
        assert!(matches!(config.root_certs(), RootCerts::WebPki));
    }
}
