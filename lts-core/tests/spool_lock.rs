//! A spool directory belongs to one process: a second process, or a second
//! shipper in the same process, is refused at start with an error naming
//! the directory and the holder, until the holder's worker ends.
//!
//! The test runs this same test binary as the child (`child_holds_the_spool`
//! does nothing unless the parent set `LTS_SPOOL_LOCK_DIR`).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use lts_core::{Config, ErrorKind, Shipper};

mod common;

/// Nothing is ever sent: the endpoint is never reached.
fn config(dir: &str) -> Config {
    common::ids("http://127.0.0.1:9")
        .token("token")
        .shutdown_timeout(Duration::from_millis(100))
        .spool_dir(dir)
        .build()
        .unwrap()
}

#[test]
fn child_holds_the_spool() {
    let Ok(dir) = std::env::var("LTS_SPOOL_LOCK_DIR") else {
        return; // not the child
    };
    let (_shipper, _guard) = Shipper::start(config(&dir)).unwrap();
    #[allow(clippy::print_stdout)]
    {
        println!("holding");
    }
    // Holds the spool until the parent closes stdin (or dies).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// Checks that starting a shipper on `dir` fails, naming the directory and
/// `holder`.
fn assert_refused(dir: &str, holder: &str) {
    let e = Shipper::start(config(dir)).map(|_| ()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    let message = e.to_string();
    assert!(
        message.contains(&format!("cannot open the spool in {dir}:")),
        "{message}"
    );
    assert!(message.contains(holder), "{message}");
    assert!(
        message.contains("a spool directory belongs to one process"),
        "{message}"
    );
}

#[test]
fn a_second_process_is_refused_the_spool_while_the_first_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir_str = dir.path().to_str().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_holds_the_spool", "--exact", "--nocapture", "--test-threads=1"])
        .env("LTS_SPOOL_LOCK_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.trim_end().ends_with("holding") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child ended without holding the spool"
        );
    }
    assert_refused(dir_str, &format!("another process (pid {})", child.id()));

    // The child's shipper ends with the child: the spool is free again.
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    let (_shipper, _guard) = Shipper::start(config(dir_str)).unwrap();
}

#[test]
fn a_second_shipper_in_the_same_process_is_refused_until_the_first_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let dir_str = dir.path().to_str().unwrap();
    let (shipper, guard) = Shipper::start(config(dir_str)).unwrap();
    assert_refused(
        dir_str,
        &format!("another Shipper of this process (pid {})", std::process::id()),
    );
    drop(shipper);
    // The guard's drop waits for the worker, which releases the lock.
    drop(guard);
    let (_shipper, _guard) = Shipper::start(config(dir_str)).unwrap();
}

#[test]
fn a_spool_in_use_given_in_the_environment_is_an_error_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let dir_str = dir.path().to_str().unwrap().to_owned();
    let (_shipper, _guard) = Shipper::start(config(&dir_str)).unwrap();
    let env = Config::from_lookup(|var| {
        Some(match var {
            "LTS_ENDPOINT" => "http://127.0.0.1:9".to_owned(),
            "LTS_PROJECT_ID" => lts_mock::PROJECT_ID.to_owned(),
            "LTS_LOG_GROUP_ID" => lts_mock::LOG_GROUP_ID.to_owned(),
            "LTS_LOG_STREAM_ID" => lts_mock::LOG_STREAM_ID.to_owned(),
            "LTS_TOKEN" => "token".to_owned(),
            "LTS_SPOOL_DIR" => dir_str.clone(),
            _ => return None,
        })
    })
    .unwrap();
    let e = Shipper::start(env).map(|_| ()).unwrap_err();
    assert_eq!(e.setting(), Some("LTS_SPOOL_DIR"));
    assert!(
        e.to_string().starts_with(&format!(
            "LTS_SPOOL_DIR: cannot open the spool in {dir_str}: the directory is in use"
        )),
        "{e}"
    );
}
