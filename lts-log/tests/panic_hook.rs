//! The panic hook delivers a panic's message and location: one global
//! logger and one panic hook per binary, so this binary has a single test.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::{config_for, events, FLUSH};
use lts_mock::MockLts;

static PREVIOUS_HOOK_RAN: AtomicBool = AtomicBool::new(false);

#[test]
fn a_panic_reaches_lts_with_its_message_and_location() {
    std::env::set_var("LTS_LOG", "info");
    let mock = MockLts::start().unwrap();
    let guard = lts_log::init(config_for(&mock).build().unwrap()).unwrap();
    // The hook installed before ours still runs.
    std::panic::set_hook(Box::new(|_| PREVIOUS_HOOK_RAN.store(true, Ordering::SeqCst)));
    lts_log::install_panic_hook();

    let line = line!() + 4;
    let result = std::thread::Builder::new()
        .name("doomed".into())
        .spawn(|| {
            panic!("boom {}", 7);
        })
        .unwrap()
        .join();
    assert!(result.is_err());
    assert!(PREVIOUS_HOOK_RAN.load(Ordering::SeqCst));

    // The hook flushed before the thread finished unwinding: the record is
    // already at the mock.
    let got = events(&mock);
    assert_eq!(got.len(), 1, "{got:?}");
    let e = &got[0].json;
    assert_eq!(e["level"], "ERROR");
    assert_eq!(e["target"], lts_log::PANIC_TARGET);
    assert_eq!(e["message"], format!("panicked at {}:{line}:13: boom 7", file!()));
    assert_eq!(e["file"], file!());
    assert_eq!(e["line"], line);
    assert_eq!(e["thread"], "doomed");

    // A panic with a non-string payload is logged too.
    let _ = std::thread::spawn(|| std::panic::panic_any(42u8)).join();
    guard.shipper().flush(FLUSH).unwrap();
    let got = events(&mock);
    assert_eq!(got.len(), 2);
    assert!(got[1].message().ends_with(": Box<dyn Any>"), "{}", got[1].message());
    drop(guard);
}
