//! `init_with_handle` installs the global logger and a handle that keeps
//! `log::max_level` in step with the directives (one scenario per binary).

mod common;

use common::{config_for, events};
use log::LevelFilter;

#[test]
fn the_handle_moves_log_max_level_with_the_directives() {
    let mock = lts_mock::MockLts::start().unwrap();
    let (guard, filter) = lts_log::LtsLogger::builder(config_for(&mock).build().unwrap())
        .filter("info")
        .init_with_handle()
        .unwrap();
    assert_eq!(log::max_level(), LevelFilter::Info);
    log::debug!("not captured 1");

    filter.set("warn,app=debug").unwrap();
    assert_eq!(log::max_level(), LevelFilter::Debug);
    log::debug!(target: "app", "captured");
    log::info!("not captured 2");

    filter.set("error").unwrap();
    assert_eq!(log::max_level(), LevelFilter::Error);
    log::warn!(target: "app", "not captured 3");
    drop(guard);
    let got: Vec<String> = events(&mock).iter().map(|e| e.message().to_owned()).collect();
    assert_eq!(got, ["captured"]);
}
