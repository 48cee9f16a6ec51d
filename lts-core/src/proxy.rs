//! [`Proxy`]: whether and how requests (to LTS and to IAM) go through a
//! proxy, and turning that into ureq's proxy setting.

use std::fmt;

use crate::error::Error;
use crate::secret::Secret;

/// Which proxy requests go through, to LTS and to IAM alike.
///
/// `http://` and `https://` proxies are asked to `CONNECT`, so TLS runs end
/// to end through them; `socks5://` (and `socks5h://`, `socks4://`) proxies
/// are supported too. A URL may carry `user:password@`; it never shows in
/// `Debug`, errors or diagnostics.
///
/// | environment | builder | meaning |
/// |---|---|---|
/// | `LTS_PROXY` unset | [`Proxy::FromEnv`] (default) | the standard variables, as ureq reads them: `ALL_PROXY`, then `HTTPS_PROXY`, then `HTTP_PROXY` (also lower case), with `NO_PROXY` |
/// | `LTS_PROXY=none` | [`Proxy::None`] | no proxy, whatever the standard variables say |
/// | `LTS_PROXY=<url>` | [`Proxy::url`] | every request through this proxy, whatever the standard variables say (`NO_PROXY` included) |
///
/// ```
/// use lts_core::{Config, Proxy};
///
/// let proxy = Proxy::url("http://alice:s3cret@proxy.corp.example:3128");
/// assert_eq!(format!("{proxy:?}"), "Url(\"http://***@proxy.corp.example:3128\")");
/// let builder = Config::builder().proxy(proxy);
/// # let _ = builder;
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Proxy {
    /// The standard proxy variables of the environment. The default.
    #[default]
    FromEnv,
    /// No proxy.
    None,
    /// This proxy for every request. Build it with [`Proxy::url`].
    Url(Secret),
}

impl Proxy {
    /// A proxy URL: `http://host:port`, `https://host:port`,
    /// `socks5://host:port`, with `user:password@` when needed. Checked by
    /// [`ConfigBuilder::build`](crate::ConfigBuilder::build).
    pub fn url(url: impl Into<String>) -> Proxy {
        Proxy::Url(Secret::new(url))
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proxy::FromEnv => f.write_str("FromEnv"),
            Proxy::None => f.write_str("None"),
            Proxy::Url(url) => f.debug_tuple("Url").field(&without_userinfo(url.expose())).finish(),
        }
    }
}

/// The URL with any `user:password@` replaced by `***@`.
fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Checks a proxy URL now, so a malformed one is a start-up error naming
/// `setting`, not a runtime surprise.
pub(crate) fn check(proxy: &Proxy, setting: &str) -> Result<(), Error> {
    agent_proxy(proxy, setting).map(drop)
}

/// ureq's proxy setting.
pub(crate) fn agent_proxy(proxy: &Proxy, setting: &str) -> Result<Option<ureq::Proxy>, Error> {
    match proxy {
        Proxy::FromEnv => Ok(ureq::Proxy::try_from_env()),
        Proxy::None => Ok(None),
        Proxy::Url(url) => {
            let shown = without_userinfo(url.expose());
            if !url.expose().contains("://") {
                return Err(Error::invalid(
                    setting,
                    format!("expected a URL such as http://host:port or socks5://host:port, got {shown:?}"),
                ));
            }
            ureq::Proxy::new(url.expose())
                .map(Some)
                .map_err(|e| Error::invalid(setting, format!("cannot use proxy {shown:?}: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_proxy_url_never_show() {
        let p = Proxy::url("socks5://bob:hunter2@10.0.0.1:1080/");
        assert_eq!(format!("{p:?}"), "Url(\"socks5://***@10.0.0.1:1080/\")");
        let e = check(&Proxy::url("gopher://bob:hunter2@proxy:70"), "LTS_PROXY").unwrap_err();
        assert_eq!(e.setting(), Some("LTS_PROXY"));
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("gopher://***@proxy:70"), "{e}");
    }

    #[test]
    fn proxy_urls_are_checked() {
        for ok in [
            "http://proxy:3128",
            "https://proxy:443",
            "socks5://proxy:1080",
            "http://u:p@[::1]:8080",
        ] {
            assert!(check(&Proxy::url(ok), "proxy").is_ok(), "{ok}");
        }
        let e = check(&Proxy::url("proxy.corp:3128"), "proxy").unwrap_err();
        assert!(e.to_string().contains("http://host:port"), "{e}");
        assert!(check(&Proxy::None, "proxy").is_ok());
    }
}
