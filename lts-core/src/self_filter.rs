//! What the pipeline must never ship: anything done on its own threads
//! (the transport's own `log` records above all), so nothing loops back.

use std::cell::Cell;

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
