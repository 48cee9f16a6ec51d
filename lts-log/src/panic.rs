//! The optional panic hook: a crashing process's last words reach LTS.

use std::any::Any;
use std::panic::{self, Location};

use log::Level;

/// The target of the records the panic hook logs.
pub const PANIC_TARGET: &str = "panic";

/// Installs a panic hook that logs each panic at `error` level with target
/// [`PANIC_TARGET`] (`"panic"`), then runs the hook that was installed
/// before (by default the one printing to stderr), then flushes the global
/// logger, so the record is delivered before the process goes on to
/// unwind or abort.
///
/// The record's message is `panicked at FILE:LINE:COLUMN: MESSAGE`; its
/// file and line are the panic's location, and its thread the panicking
/// thread. It goes through [`log::logger()`], so it works with an
/// [`crate::LtsLogger`] installed by [`crate::init`] or wrapped in a logger
/// of your own, and the filter applies as to any record. The flush waits
/// at most the logger's flush timeout (5 s by default).
///
/// Call it once, after installing the logger. Called while the thread is
/// panicking, it does nothing.
///
/// # Example
///
/// ```no_run
/// let _guard = lts_log::try_init_from_env()?;
/// lts_log::install_panic_hook(); // a panic is logged at error level, then flushed
/// # Ok::<(), lts_log::InitError>(())
/// ```
pub fn install_panic_hook() {
    if std::thread::panicking() {
        return;
    }
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let logged = log_panic(info.payload(), info.location());
        previous(info);
        if logged {
            log::logger().flush();
        }
    }));
}

/// Logs the panic through the global logger; returns whether it was let
/// through by the maximum level.
fn log_panic(payload: &(dyn Any + Send), location: Option<&Location<'_>>) -> bool {
    if Level::Error > log::max_level() {
        return false;
    }
    let message = payload_str(payload);
    let logger = log::logger();
    let mut builder = log::Record::builder();
    builder.level(Level::Error).target(PANIC_TARGET);
    match location {
        Some(loc) => logger.log(
            &builder
                .file(Some(loc.file()))
                .line(Some(loc.line()))
                .args(format_args!(
                    "panicked at {}:{}:{}: {message}",
                    loc.file(),
                    loc.line(),
                    loc.column()
                ))
                .build(),
        ),
        None => logger.log(&builder.args(format_args!("panicked: {message}")).build()),
    }
    true
}

/// The panic's message, when it is a string (as with `panic!("...")`).
fn payload_str(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}
