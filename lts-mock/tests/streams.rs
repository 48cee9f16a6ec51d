//! Several streams: each registered stream takes reports and keeps its own
//! events; an unregistered one is refused; faults can aim at one stream.

mod common;

use common::{agent, now_ns, send};
use lts_mock::{error_codes as codes, MockLts, CONTENT_TYPE, LOG_GROUP_ID, LOG_STREAM_ID, PROJECT_ID};
use serde_json::json;

const AUDIT: &str = "0a1b2c3d-0000-4000-8000-0000000000a1";
const OTHER_GROUP: &str = "0a1b2c3d-0000-4000-8000-0000000000e0";
const ERRORS: &str = "0a1b2c3d-0000-4000-8000-0000000000e1";
const TENANT: &str = "fedcba9876543210fedcba9876543210";

fn url(mock: &MockLts, group: &str, stream: &str) -> String {
    format!(
        "{}/v2/{PROJECT_ID}/lts/groups/{group}/streams/{stream}/tenant/contents/high-accuracy",
        mock.endpoint()
    )
}

/// Posts `lines` to a stream; the answer's status and error code.
fn post(mock: &MockLts, group: &str, stream: &str, lines: &[&str], tenant: Option<&str>) -> (u16, String) {
    let t0 = now_ns();
    let contents: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| json!({"log_time_ns": t0 + i as u64, "log": l}))
        .collect();
    let mut body = json!({"contents": contents, "labels": {"app": "test"}});
    if let Some(t) = tenant {
        body["tenant_project_id"] = json!(t);
    }
    let token = mock.token();
    let headers = [("X-Auth-Token", token.as_str()), ("Content-Type", CONTENT_TYPE)];
    let a = send(
        &agent(),
        &url(mock, group, stream),
        &headers,
        body.to_string().as_bytes(),
    );
    (a.status, a.code().to_owned())
}

fn lines_in(mock: &MockLts, group: &str, stream: &str) -> Vec<String> {
    mock.events_in(group, stream).into_iter().map(|e| e.line).collect()
}

#[test]
fn each_registered_stream_keeps_its_own_events_with_their_stream_and_tenant() {
    let mock = MockLts::builder()
        .stream(LOG_GROUP_ID, AUDIT)
        .stream(OTHER_GROUP, ERRORS)
        .build()
        .unwrap();
    assert_eq!(post(&mock, LOG_GROUP_ID, AUDIT, &["a1", "a2"], Some(TENANT)).0, 200);
    assert_eq!(post(&mock, OTHER_GROUP, ERRORS, &["e1"], None).0, 200);
    assert_eq!(post(&mock, LOG_GROUP_ID, LOG_STREAM_ID, &["d1"], None).0, 200);
    assert_eq!(lines_in(&mock, LOG_GROUP_ID, AUDIT), ["a1", "a2"]);
    assert_eq!(lines_in(&mock, OTHER_GROUP, ERRORS), ["e1"]);
    assert_eq!(lines_in(&mock, LOG_GROUP_ID, LOG_STREAM_ID), ["d1"]);
    // A stream id in the wrong group is another stream.
    assert!(lines_in(&mock, LOG_GROUP_ID, ERRORS).is_empty());
    assert_eq!(
        (
            mock.event_count_in(LOG_GROUP_ID, AUDIT),
            mock.event_count_in(OTHER_GROUP, ERRORS),
            mock.event_count()
        ),
        (2, 1, 4)
    );
    let audit = mock.events_in(LOG_GROUP_ID, AUDIT);
    assert!(audit.iter().all(|e| e.tenant_project_id.as_deref() == Some(TENANT)));
    assert_eq!(mock.events_in(OTHER_GROUP, ERRORS)[0].tenant_project_id, None);
    let requests = mock.requests();
    let seen: Vec<(Option<&str>, Option<&str>, Option<&str>)> = requests
        .iter()
        .map(|r| {
            (
                r.log_group_id.as_deref(),
                r.log_stream_id.as_deref(),
                r.tenant_project_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Some(LOG_GROUP_ID), Some(AUDIT), Some(TENANT)),
            (Some(OTHER_GROUP), Some(ERRORS), None),
            (Some(LOG_GROUP_ID), Some(LOG_STREAM_ID), None),
        ]
    );
}

#[test]
fn a_stream_not_served_is_refused_until_it_is_added() {
    let mock = MockLts::start().unwrap();
    assert_eq!(
        post(&mock, LOG_GROUP_ID, AUDIT, &["x"], None),
        (404, codes::UNKNOWN_LOG_STREAM_ID.to_owned())
    );
    assert_eq!(
        post(&mock, OTHER_GROUP, ERRORS, &["x"], None),
        (404, codes::UNKNOWN_LOG_GROUP_ID.to_owned())
    );
    mock.add_stream(LOG_GROUP_ID, AUDIT).unwrap();
    assert_eq!(post(&mock, LOG_GROUP_ID, AUDIT, &["x"], None).0, 200);
    assert_eq!(lines_in(&mock, LOG_GROUP_ID, AUDIT), ["x"]);
    assert_eq!(mock.event_count(), 1);
    let bad = mock.add_stream(LOG_GROUP_ID, "not-a-uuid").unwrap_err();
    assert_eq!(bad.kind(), std::io::ErrorKind::InvalidInput);
    assert!(bad.to_string().contains("\"not-a-uuid\""), "{bad}");
}

#[test]
fn a_fault_aimed_at_one_stream_leaves_the_others_alone_and_runs_out() {
    let mock = MockLts::builder().stream(LOG_GROUP_ID, AUDIT).build().unwrap();
    mock.faults().fail_stream(AUDIT, 503, 2);
    let statuses: Vec<u16> = [AUDIT, LOG_STREAM_ID, AUDIT, LOG_STREAM_ID, AUDIT]
        .iter()
        .map(|s| post(&mock, LOG_GROUP_ID, s, &["x"], None).0)
        .collect();
    assert_eq!(statuses, [503, 200, 503, 200, 200]);
    let faults: Vec<Option<String>> = mock.requests().into_iter().map(|r| r.fault).collect();
    let f = Some("fail_stream".to_owned());
    assert_eq!(faults, [f.clone(), None, f, None, None]);
    // Always, until cleared.
    mock.faults().fail_stream(AUDIT, 429, usize::MAX);
    for _ in 0..3 {
        assert_eq!(post(&mock, LOG_GROUP_ID, AUDIT, &["x"], None).0, 429);
    }
    mock.faults().clear();
    assert_eq!(post(&mock, LOG_GROUP_ID, AUDIT, &["x"], None).0, 200);
    assert_eq!(mock.event_count_in(LOG_GROUP_ID, AUDIT), 2);
}
