//! The `lts-mock` binary: start-up lines, one line per event, `--help`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use lts_mock::{default_token, rfc3339_nanos, Api, CONTENT_TYPE, LOG_GROUP_ID, LOG_STREAM_ID, PROJECT_ID};

#[test]
fn help_prints_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--port"), "{text}");
    assert!(text.contains("--token"), "{text}");
}

#[test]
fn bad_argument_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
        .arg("--nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn prints_exports_then_one_line_per_event() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
        .args(["--port", "0", "--bind", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut export = None;
    while export.is_none() {
        line.clear();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "binary exited early");
        if let Some(rest) = line.trim_end().strip_prefix("export ") {
            export = Some(rest.to_string());
        }
    }
    let vars: Vec<(String, String)> = export
        .unwrap()
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    let endpoint = get("LTS_ENDPOINT");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    assert_eq!(get("LTS_PROJECT_ID"), PROJECT_ID);
    assert_eq!(get("LTS_LOG_GROUP_ID"), LOG_GROUP_ID);
    assert_eq!(get("LTS_LOG_STREAM_ID"), LOG_STREAM_ID);
    assert_eq!(get("LTS_TOKEN"), default_token());

    let url = format!(
        "{endpoint}/v2/{PROJECT_ID}/lts/groups/{LOG_GROUP_ID}/streams/{LOG_STREAM_ID}/tenant/contents/high-accuracy"
    );
    let t = 1_586_850_540_000_000_008u64.max(now_ns());
    let a = send(
        &agent(),
        &url,
        &[("X-Auth-Token", &default_token()), ("Content-Type", CONTENT_TYPE)],
        ha_body(t, &["hello from the test", "second"]).to_string().as_bytes(),
    );
    assert_eq!(a.status, 200);
    let mut printed = Vec::new();
    for _ in 0..2 {
        line.clear();
        out.read_line(&mut line).unwrap();
        printed.push(line.trim_end().to_string());
    }
    assert_eq!(
        printed,
        [
            format!("{} hello from the test", rfc3339_nanos(t)),
            format!("{} second", rfc3339_nanos(t + 1)),
        ]
    );
    let _ = Api::Standard;
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn iam_users_and_access_keys_can_be_registered() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
        .args(["--port", "0", "--iam-user", "svc:pa:ss:acme", "--access-key", "AK:SK"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut iam_endpoint = None;
    loop {
        line.clear();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "binary exited early");
        if let Some(rest) = line.trim_end().strip_prefix("IAM users may use LTS_IAM_ENDPOINT=") {
            iam_endpoint = Some(rest.split(' ').next().unwrap().to_string());
        }
        if line.starts_with("export ") {
            break;
        }
    }
    let iam_endpoint = iam_endpoint.expect("an IAM line before the exports");
    // The password is what lies between the first and the last ':'.
    let body = serde_json::json!({"auth":{"identity":{"methods":["password"],
        "password":{"user":{"name":"svc","password":"pa:ss","domain":{"name":"acme"}}}},
        "scope":{"project":{"id":PROJECT_ID}}}});
    let resp = agent()
        .post(format!("{iam_endpoint}/v3/auth/tokens?nocatalog=true"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert!(resp.headers().get("X-Subject-Token").is_some());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn malformed_credentials_arguments_exit_2() {
    for args in [
        ["--iam-user", "svc:pw"],
        ["--iam-user", ":pw:acme"],
        ["--access-key", "AKSK"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn ui_serves_the_console_and_ring_bounds_the_events() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
        .args(["--port", "0", "--ui", "--ring", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let (mut endpoint, mut console) = (None, None);
    while console.is_none() {
        line.clear();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "binary exited early");
        if let Some(rest) = line.trim_end().strip_prefix("lts-mock listening on ") {
            endpoint = Some(rest.to_string());
        }
        if let Some(rest) = line.trim_end().strip_prefix("console: ") {
            console = Some(rest.to_string());
        }
    }
    let endpoint = endpoint.expect("the endpoint before the console");
    assert_eq!(console.unwrap(), format!("{endpoint}/ (keeps the last 2 events)"));
    let mut page = agent().get(format!("{endpoint}/")).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.body_mut().read_to_string().unwrap().contains("lts-mock console"));

    let url = format!(
        "{endpoint}/v2/{PROJECT_ID}/lts/groups/{LOG_GROUP_ID}/streams/{LOG_STREAM_ID}/tenant/contents/high-accuracy"
    );
    let token = default_token();
    let headers = [("X-Auth-Token", token.as_str()), ("Content-Type", CONTENT_TYPE)];
    let t = now_ns();
    for (i, l) in ["one", "two", "three"].iter().enumerate() {
        let a = send(
            &agent(),
            &url,
            &headers,
            ha_body(t + i as u64, &[l]).to_string().as_bytes(),
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let mut poll = agent().get(format!("{endpoint}/api/poll")).call().unwrap();
    let p: serde_json::Value = serde_json::from_str(&poll.body_mut().read_to_string().unwrap()).unwrap();
    let lines: Vec<&str> = p["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["two", "three"]);
    assert_eq!(
        (p["evicted_events"].as_u64(), p["stats"]["events"].as_u64()),
        (Some(1), Some(3))
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn bad_ring_exits_2_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
        .args(["--ring", "many"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("lts-mock: bad --ring \"many\" (want a whole number of events)"),
        "{err}"
    );
}

/// Starts the binary with `args`; returns it, its endpoint and the start-up lines.
fn start_with(args: &[&str]) -> (std::process::Child, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "binary exited early");
        let done = line.starts_with("export ");
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    let endpoint = lines[0].strip_prefix("lts-mock listening on ").unwrap().to_string();
    (child, endpoint, lines)
}

fn report_url(endpoint: &str) -> String {
    format!(
        "{endpoint}/v2/{PROJECT_ID}/lts/groups/{LOG_GROUP_ID}/streams/{LOG_STREAM_ID}/tenant/contents/high-accuracy"
    )
}

#[test]
fn rate_limit_and_delay_flags_set_the_faults() {
    let (mut child, endpoint, lines) = start_with(&["--rate-limit", "0", "--delay-ms", "150"]);
    assert!(
        lines.contains(&"answering every request 150 ms late".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"answering 429 to reporting requests above 0 per second".to_string()),
        "{lines:?}"
    );
    let token = default_token();
    let started = std::time::Instant::now();
    let resp = agent()
        .post(report_url(&endpoint))
        .header("X-Auth-Token", &token)
        .header("Content-Type", CONTENT_TYPE)
        .send(ha_body(now_ns(), &["x"]).to_string())
        .unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("Retry-After").is_none());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn bad_rate_limit_or_delay_exits_2_naming_it() {
    for (args, message) in [
        (
            ["--rate-limit", "fast"],
            "lts-mock: bad --rate-limit \"fast\" (want a whole number of requests per second)",
        ),
        (
            ["--delay-ms", "-5"],
            "lts-mock: bad --delay-ms \"-5\" (want a whole number of milliseconds)",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lts-mock"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with(message), "{err}");
    }
}
