//! What the pipeline must never ship, whatever a user's filter says, in
//! one place for both front ends: anything done on its own threads (the
//! transport's own `log` records above all, so nothing loops back), the
//! shipper's own crates, and the transport's `debug`/`trace` noise.

use std::cell::Cell;

use crate::record::Level;

/// Crates whose records never enter: the shipper's own.
const OWN_CRATES: [&str; 4] = ["lts_core", "lts_log", "lts_tracing", "lts_mock"];

/// Crates whose `debug` and `trace` records are left out unless asked for:
/// the transport's, which log every connection and TLS record.
const TRANSPORT_CRATES: [&str; 3] = ["ureq", "ureq_proto", "rustls"];

/// Whether a record of `target` at `level` is one the pipeline never ships:
/// from the shipper's own crates, or (unless `keep_transport_debug`) the
/// transport's `debug` and `trace` records. The front ends ask this (and
/// [`is_shipper_thread`]) before their users' filters.
///
/// ```
/// use lts_core::{is_left_out, Level};
///
/// assert!(is_left_out("lts_core::worker", Level::Error, false));
/// assert!(is_left_out("ureq::unit", Level::Debug, false));
/// assert!(!is_left_out("ureq::unit", Level::Debug, true));
/// assert!(!is_left_out("ureq_user", Level::Trace, false));
/// assert!(!is_left_out("my_app", Level::Trace, false));
/// ```
#[inline]
pub fn is_left_out(target: &str, level: Level, keep_transport_debug: bool) -> bool {
    match target.as_bytes().first() {
        Some(b'l') => OWN_CRATES.iter().any(|k| in_crate(target, k)),
        Some(b'u' | b'r') if !keep_transport_debug && level <= Level::Debug => {
            TRANSPORT_CRATES.iter().any(|k| in_crate(target, k))
        }
        _ => false,
    }
}

/// Whether `target` is `krate` or a module inside it (`krate::...`).
#[inline]
fn in_crate(target: &str, krate: &str) -> bool {
    target
        .strip_prefix(krate)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

thread_local! {
    static IS_SHIPPER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is a shipper's background thread.
///
/// Front ends (`lts-log`, `lts-tracing`) check this first and ignore events
/// from that thread, so the transport's own logging can never loop back.
///
/// # Example
///
/// ```
/// // A `log::Log` of your own that forwards to LTS skips the shipper's thread,
/// // so the HTTP client's own logging cannot loop back:
/// fn should_forward() -> bool {
///     !lts_core::is_shipper_thread()
/// }
/// assert!(should_forward());
/// ```
#[inline]
pub fn is_shipper_thread() -> bool {
    IS_SHIPPER.try_with(Cell::get).unwrap_or(false)
}

/// Marks the current thread as one of a shipper's own (see
/// [`is_shipper_thread`]).
pub(crate) fn mark_shipper_thread() {
    IS_SHIPPER.with(|c| c.set(true));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_matching_respects_module_boundaries() {
        assert!(in_crate("ureq", "ureq"));
        assert!(in_crate("ureq::unit", "ureq"));
        assert!(!in_crate("ureq_proto", "ureq"));
        assert!(!in_crate("ureqx::a", "ureq"));
        assert!(!in_crate("my_app::ureq", "ureq"));
    }

    #[test]
    fn own_crates_are_left_out_at_every_level_and_transport_noise_below_info() {
        for krate in OWN_CRATES {
            assert!(is_left_out(krate, Level::Error, true));
            assert!(is_left_out(&format!("{krate}::worker"), Level::Info, false));
        }
        assert!(!is_left_out("lts_core_user", Level::Info, false));
        assert!(!is_left_out("lts", Level::Trace, false));
        for krate in TRANSPORT_CRATES {
            assert!(is_left_out(krate, Level::Debug, false));
            assert!(is_left_out(&format!("{krate}::conn"), Level::Trace, false));
            assert!(!is_left_out(&format!("{krate}::conn"), Level::Trace, true));
            assert!(!is_left_out(&format!("{krate}::conn"), Level::Info, false));
            assert!(!is_left_out(krate, Level::Warn, false));
        }
        assert!(!is_left_out("rustls_pemfile_user", Level::Debug, false));
    }

    #[test]
    fn the_thread_marker_is_off_for_other_threads_and_on_for_a_marked_one() {
        assert!(!is_shipper_thread());
        std::thread::spawn(|| {
            mark_shipper_thread();
            assert!(is_shipper_thread());
        })
        .join()
        .unwrap();
        assert!(!is_shipper_thread());
    }
}
