//! Runnable examples live in `examples/examples/`; this library holds what
//! they share: shipping to an embedded lts-mock unless the `LTS_*`
//! variables name the real service, and printing what the mock received.

use std::error::Error;

use lts_core::{Config, ConfigBuilder};
use lts_mock::MockLts;

/// The default configuration pointed at `mock`: its endpoint, ids and token.
pub fn mock_config(mock: &MockLts) -> ConfigBuilder {
    Config::builder()
        .endpoint(mock.endpoint())
        .project_id(lts_mock::PROJECT_ID)
        .log_group_id(lts_mock::LOG_GROUP_ID)
        .log_stream_id(lts_mock::LOG_STREAM_ID)
        .token(mock.token())
}

/// Set (to anything but empty) to keep the embedded mock and its console
/// open after an example has shipped, until Enter is pressed.
pub const HOLD_ENV: &str = "LTS_MOCK_HOLD";

/// The configuration an example ships with, and the embedded mock it ships
/// to, if any.
///
/// With `LTS_ENDPOINT` or `LTS_REGION` set, the configuration is read from
/// the `LTS_*` variables ([`Config::from_env`]) and there is no mock.
/// Otherwise an embedded lts-mock (a strict local stand-in for LTS) is
/// started with its console, whose address is printed, and the
/// configuration points at it, with the label `example = label`. Keep the
/// mock until the example has shipped.
#[allow(clippy::print_stdout)]
pub fn config_or_mock(label: &str) -> Result<(Config, Option<MockLts>), Box<dyn Error>> {
    let use_real_service = std::env::var_os("LTS_ENDPOINT").is_some() || std::env::var_os("LTS_REGION").is_some();
    if use_real_service {
        return Ok((Config::from_env()?, None));
    }
    let mock = MockLts::builder().console(true).build()?;
    if let Some(url) = mock.console_url() {
        println!("lts-mock console: {url} (set {HOLD_ENV}=1 to keep it open after the example)");
    }
    let config = mock_config(&mock).label("example", label).build()?;
    Ok((config, Some(mock)))
}

/// Prints every event `mock` received, in arrival order: its time and its
/// line. With [`HOLD_ENV`] set, then keeps the mock (and its console) open
/// until Enter is pressed.
#[allow(clippy::print_stdout)]
pub fn print_received(mock: &MockLts) {
    println!("lts-mock received {} events:", mock.event_count());
    for e in mock.events() {
        println!("  {}  {}", lts_mock::rfc3339_nanos(e.time_ns), e.line);
    }
    let hold = std::env::var_os(HOLD_ENV).is_some_and(|v| !v.is_empty());
    if let (true, Some(url)) = (hold, mock.console_url()) {
        println!("the console stays open at {url}; press Enter to end");
        let _ = std::io::stdin().read_line(&mut String::new());
    }
}

/// The README's Rust snippets, compiled (and run where they need no
/// network) as doctests of this crate, so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
