//! One test per validation rule: exact status and error code.

mod common;

use common::*;
use lts_mock::{error_codes as codes, Api, MockLts, CONTENT_TYPE, LOG_GROUP_ID, LOG_STREAM_ID, PROJECT_ID};
use serde_json::{json, Value};

const SUCCESS_HA: &str = r#"{"errorCode":"SVCSTG.ALS.200.200","error_msg":"Report success.","result":null}"#;
const SUCCESS_STD: &str = r#"{"errorCode":"SVCSTG.ALS.200.200","errorMessage":"Report success.","result":null}"#;

fn assert_rejected(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "body: {}", a.body);
    assert_eq!(a.code(), code, "body: {}", a.body);
    assert_eq!(a.json["result"], Value::Null);
    let obj = a.json.as_object().unwrap();
    assert_eq!(obj.len(), 3, "body: {}", a.body);
}

/// Posts a body that fails validation and checks that nothing was recorded.
fn assert_body_rejected(api: Api, body: Value, code: &str) {
    let mock = MockLts::start().unwrap();
    let a = post_json(&mock, api, &body);
    assert_rejected(&a, 400, code);
    let msg_key = if api == Api::Standard {
        "errorMessage"
    } else {
        "error_msg"
    };
    assert!(a.json[msg_key].is_string(), "body: {}", a.body);
    assert_eq!(mock.event_count(), 0);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].status, 400);
    assert_eq!(reqs[0].error_code.as_deref(), Some(code));
}

#[test]
fn high_accuracy_success_exact_body_and_events() {
    let mock = MockLts::start().unwrap();
    let t0 = now_ns();
    let a = post_json(&mock, Api::HighAccuracy, &ha_body(t0, &["first", "second"]));
    assert_eq!(a.status, 200);
    assert_eq!(a.body, SUCCESS_HA);
    let ev = mock.events();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].line, "first");
    assert_eq!(ev[0].time_ns, t0);
    assert_eq!(ev[1].line, "second");
    assert_eq!(ev[1].time_ns, t0 + 1);
    assert_eq!(ev[0].api, Api::HighAccuracy);
    assert_eq!(ev[0].request, 0);
    assert_eq!(ev[0].labels.get("app").map(String::as_str), Some("test"));
    let r = &mock.requests()[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.error_code, None);
    assert_eq!(r.events, 2);
    assert_eq!(r.api, Some(Api::HighAccuracy));
    assert_eq!(r.content_type.as_deref(), Some(CONTENT_TYPE));
    assert_eq!(r.content_encoding, None);
    assert_eq!(r.wire_bytes, r.decoded_bytes);
    assert_eq!(r.fault, None);
}

#[test]
fn standard_success_exact_body_and_base_plus_index_times() {
    let mock = MockLts::start().unwrap();
    let t0 = now_ns();
    let a = post_json(&mock, Api::Standard, &std_body(t0, &["a", "b", "c"]));
    assert_eq!(a.status, 200);
    assert_eq!(a.body, SUCCESS_STD);
    let ev = mock.events();
    let got: Vec<(u64, &str)> = ev.iter().map(|e| (e.time_ns, e.line.as_str())).collect();
    assert_eq!(got, vec![(t0, "a"), (t0 + 1, "b"), (t0 + 2, "c")]);
    assert!(ev.iter().all(|e| e.api == Api::Standard));
}

#[test]
fn log_time_ns_as_string_of_digits_accepted_on_both_endpoints() {
    let mock = MockLts::start().unwrap();
    let t0 = now_ns();
    let ha = json!({"contents":[{"log_time_ns": t0.to_string(), "log":"x"}],"labels":{}});
    assert_eq!(post_json(&mock, Api::HighAccuracy, &ha).status, 200);
    let st = json!({"log_time_ns": t0.to_string(), "contents":["y","z"],"labels":{}});
    assert_eq!(post_json(&mock, Api::Standard, &st).status, 200);
    let times: Vec<u64> = mock.events().iter().map(|e| e.time_ns).collect();
    assert_eq!(times, vec![t0, t0, t0 + 1]);
}

#[test]
fn tenant_project_id_is_optional_and_must_be_a_string() {
    let mock = MockLts::start().unwrap();
    let mut body = ha_body(now_ns(), &["x"]);
    body["tenant_project_id"] = json!("abc");
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    body["tenant_project_id"] = json!(5);
    assert_rejected(
        &post_json(&mock, Api::HighAccuracy, &body),
        400,
        codes::INVALID_TENANT_PROJECT_ID,
    );
}

#[test]
fn empty_labels_object_is_accepted() {
    let mock = MockLts::start().unwrap();
    let body = json!({"contents":[{"log_time_ns": now_ns(), "log":""}],"labels":{}});
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    assert_eq!(mock.events()[0].line, "");
    assert!(mock.events()[0].labels.is_empty());
}

#[test]
fn wrong_method_is_404() {
    let mock = MockLts::start().unwrap();
    let mut resp = agent()
        .get(mock.url(Api::HighAccuracy))
        .header("X-Auth-Token", mock.token())
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["errorCode"], codes::NOT_FOUND);
    let r = &mock.requests()[0];
    assert_eq!((r.method.as_str(), r.status), ("GET", 404));
    assert_eq!(r.api, Some(Api::HighAccuracy));
}

#[test]
fn unknown_paths_are_404() {
    let mock = MockLts::start().unwrap();
    let base = mock.url(Api::Standard);
    for url in [
        format!("{}/", base),
        format!("{}/high-accuracy/", base),
        format!("{}/v2", mock.endpoint()),
        format!(
            "{}/v1/{PROJECT_ID}/lts/groups/{LOG_GROUP_ID}/streams/{LOG_STREAM_ID}/tenant/contents",
            mock.endpoint()
        ),
        format!("{}/low-accuracy", base),
    ] {
        let token = mock.token();
        let a = send(
            &agent(),
            &url,
            &[("X-Auth-Token", &token), ("Content-Type", CONTENT_TYPE)],
            ha_body(now_ns(), &["x"]).to_string().as_bytes(),
        );
        assert_rejected(&a, 404, codes::NOT_FOUND);
    }
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn query_string_is_ignored() {
    let mock = MockLts::start().unwrap();
    let token = mock.token();
    let a = send(
        &agent(),
        &format!("{}?x=1", mock.url(Api::HighAccuracy)),
        &[("X-Auth-Token", &token), ("Content-Type", CONTENT_TYPE)],
        ha_body(now_ns(), &["x"]).to_string().as_bytes(),
    );
    assert_eq!(a.status, 200);
}

fn post_to_ids(mock: &MockLts, project: &str, group: &str, stream: &str) -> Answer {
    let url = format!(
        "{}/v2/{project}/lts/groups/{group}/streams/{stream}/tenant/contents/high-accuracy",
        mock.endpoint()
    );
    let token = mock.token();
    send(
        &agent(),
        &url,
        &[("X-Auth-Token", &token), ("Content-Type", CONTENT_TYPE)],
        ha_body(now_ns(), &["x"]).to_string().as_bytes(),
    )
}

#[test]
fn malformed_project_id_is_400() {
    let mock = MockLts::start().unwrap();
    for bad in [
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcde-",
    ] {
        let a = post_to_ids(&mock, bad, LOG_GROUP_ID, LOG_STREAM_ID);
        assert_rejected(&a, 400, codes::BAD_PROJECT_ID);
    }
}

#[test]
fn malformed_group_and_stream_ids_are_400() {
    let mock = MockLts::start().unwrap();
    let a = post_to_ids(&mock, PROJECT_ID, "0a1b2c3d-0000-4000-8000-00000000001", LOG_STREAM_ID);
    assert_rejected(&a, 400, codes::BAD_LOG_GROUP_ID);
    let a = post_to_ids(&mock, PROJECT_ID, LOG_GROUP_ID, "0a1b2c3d00000040000800000000000000002");
    assert_rejected(&a, 400, codes::BAD_LOG_STREAM_ID);
    let a = post_to_ids(&mock, PROJECT_ID, LOG_GROUP_ID, "0a1b2c3d-0000-4000-8000-00000000000z");
    assert_rejected(&a, 400, codes::BAD_LOG_STREAM_ID);
}

#[test]
fn unknown_but_well_formed_ids_are_404() {
    let mock = MockLts::start().unwrap();
    let other_uuid = "0a1b2c3d-0000-4000-8000-0000000000ff";
    let a = post_to_ids(&mock, "ffffffffffffffffffffffffffffffff", LOG_GROUP_ID, LOG_STREAM_ID);
    assert_rejected(&a, 404, codes::UNKNOWN_PROJECT_ID);
    let a = post_to_ids(&mock, PROJECT_ID, other_uuid, LOG_STREAM_ID);
    assert_rejected(&a, 404, codes::UNKNOWN_LOG_GROUP_ID);
    let a = post_to_ids(&mock, PROJECT_ID, LOG_GROUP_ID, other_uuid);
    assert_rejected(&a, 404, codes::UNKNOWN_LOG_STREAM_ID);
    // Group and stream swapped: both well-formed, neither in its place.
    let a = post_to_ids(&mock, PROJECT_ID, LOG_STREAM_ID, LOG_GROUP_ID);
    assert_rejected(&a, 404, codes::UNKNOWN_LOG_GROUP_ID);
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn missing_token_is_401_with_exact_body() {
    let mock = MockLts::start().unwrap();
    let a = send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("Content-Type", CONTENT_TYPE)],
        ha_body(now_ns(), &["x"]).to_string().as_bytes(),
    );
    assert_rejected(&a, 401, "SVCSTG.ALS.403.105");
    assert!(a.json["error_msg"].is_string());
    assert_eq!(mock.requests()[0].error_code.as_deref(), Some("SVCSTG.ALS.403.105"));
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn wrong_token_is_401() {
    let mock = MockLts::start().unwrap();
    let mut wrong = mock.token();
    wrong.pop();
    wrong.push('!');
    for token in [wrong.as_str(), "", "x"] {
        let a = send(
            &agent(),
            &mock.url(Api::Standard),
            &[("X-Auth-Token", token), ("Content-Type", CONTENT_TYPE)],
            std_body(now_ns(), &["x"]).to_string().as_bytes(),
        );
        assert_rejected(&a, 401, codes::TOKEN);
        assert!(a.json["errorMessage"].is_string());
    }
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn token_is_checked_before_the_body() {
    let mock = MockLts::start().unwrap();
    let a = send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("X-Auth-Token", "nope"), ("Content-Type", "text/plain")],
        b"not json",
    );
    assert_rejected(&a, 401, codes::TOKEN);
}

#[test]
fn content_type_must_be_exact() {
    let mock = MockLts::start().unwrap();
    let body = ha_body(now_ns(), &["x"]).to_string();
    let token = mock.token();
    for ct in [
        "application/json",
        "application/json; charset=UTF-8",
        "application/json;charset=UTF-8;",
        "application/json ;charset=UTF-8",
        "application/json;charset=ISO-8859-1",
        "text/plain;charset=UTF-8",
        "application/json;charset=\"UTF-8\"",
    ] {
        let a = send(
            &agent(),
            &mock.url(Api::HighAccuracy),
            &[("X-Auth-Token", &token), ("Content-Type", ct)],
            body.as_bytes(),
        );
        assert_rejected(&a, 400, codes::BAD_CONTENT_TYPE);
    }
    // No Content-Type at all.
    let a = send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("X-Auth-Token", &token)],
        body.as_bytes(),
    );
    assert_rejected(&a, 400, codes::BAD_CONTENT_TYPE);
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn content_type_case_is_ignored() {
    let mock = MockLts::start().unwrap();
    let body = ha_body(now_ns(), &["x"]).to_string();
    let token = mock.token();
    for ct in ["Application/JSON;Charset=utf-8", "application/json;charset=utf-8"] {
        let a = send(
            &agent(),
            &mock.url(Api::HighAccuracy),
            &[("X-Auth-Token", &token), ("Content-Type", ct)],
            body.as_bytes(),
        );
        assert_eq!(a.status, 200, "{ct}");
    }
}

#[test]
fn malformed_json_is_400() {
    for body in [
        &b"{"[..],
        b"",
        b"not json",
        b"[]",
        b"\"x\"",
        b"{\"labels\":{}} trailing",
        b"\xff\xfe",
    ] {
        let mock = MockLts::start().unwrap();
        let a = post(&mock, Api::HighAccuracy, body, &[]);
        assert_rejected(&a, 400, codes::MALFORMED_JSON);
        assert_eq!(mock.requests()[0].events, 0);
    }
}

#[test]
fn malformed_json_on_standard_endpoint_uses_error_message_key() {
    let mock = MockLts::start().unwrap();
    let a = post(&mock, Api::Standard, b"{", &[]);
    assert_rejected(&a, 400, codes::MALFORMED_JSON);
    assert!(a.json["errorMessage"].is_string());
    assert!(a.json.get("error_msg").is_none());
}

#[test]
fn missing_labels_is_400() {
    let t = now_ns();
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":[{"log_time_ns":t,"log":"x"}]}),
        codes::INVALID_LABELS,
    );
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":t,"contents":["x"]}),
        codes::INVALID_LABELS,
    );
}

#[test]
fn labels_must_be_an_object() {
    let t = now_ns();
    for labels in [json!(null), json!([]), json!("a=b")] {
        assert_body_rejected(
            Api::HighAccuracy,
            json!({"contents":[{"log_time_ns":t,"log":"x"}],"labels":labels}),
            codes::INVALID_LABELS,
        );
    }
}

#[test]
fn label_values_must_be_strings() {
    let t = now_ns();
    for v in [json!(1), json!(true), json!(null), json!({"a":"b"}), json!(["a"])] {
        assert_body_rejected(
            Api::HighAccuracy,
            json!({"contents":[{"log_time_ns":t,"log":"x"}],"labels":{"ok":"s","bad":v}}),
            codes::INVALID_LABELS,
        );
    }
}

fn labels(n: usize) -> Value {
    let m: serde_json::Map<String, Value> = (0..n).map(|i| (format!("k{i}"), json!(format!("v{i}")))).collect();
    Value::Object(m)
}

#[test]
fn at_most_100_labels() {
    let t = now_ns();
    let mock = MockLts::start().unwrap();
    let ok = json!({"contents":[{"log_time_ns":t,"log":"x"}],"labels":labels(100)});
    assert_eq!(post_json(&mock, Api::HighAccuracy, &ok).status, 200);
    assert_eq!(mock.events()[0].labels.len(), 100);
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":[{"log_time_ns":t,"log":"x"}],"labels":labels(101)}),
        codes::TOO_MANY_LABELS,
    );
}

#[test]
fn contents_must_be_present() {
    assert_body_rejected(Api::HighAccuracy, json!({"labels":{}}), codes::INVALID_CONTENTS);
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":now_ns(),"labels":{}}),
        codes::INVALID_CONTENTS,
    );
}

#[test]
fn contents_must_not_be_empty() {
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":[],"labels":{}}),
        codes::INVALID_CONTENTS,
    );
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":now_ns(),"contents":[],"labels":{}}),
        codes::INVALID_CONTENTS,
    );
}

#[test]
fn contents_must_be_an_array() {
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":{"log_time_ns":now_ns(),"log":"x"},"labels":{}}),
        codes::INVALID_CONTENTS,
    );
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":now_ns(),"contents":"x","labels":{}}),
        codes::INVALID_CONTENTS,
    );
}

#[test]
fn high_accuracy_entries_must_be_objects() {
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":["a line"],"labels":{}}),
        codes::INVALID_CONTENTS,
    );
}

#[test]
fn standard_entries_must_be_strings() {
    let t = now_ns();
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":t,"contents":[{"log_time_ns":t,"log":"x"}],"labels":{}}),
        codes::INVALID_CONTENTS,
    );
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":t,"contents":["ok", 5],"labels":{}}),
        codes::INVALID_CONTENTS,
    );
}

#[test]
fn log_must_be_a_present_string() {
    let t = now_ns();
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":[{"log_time_ns":t}],"labels":{}}),
        codes::INVALID_LOG,
    );
    for v in [json!(5), json!(null), json!(["x"]), json!({"m":"x"})] {
        assert_body_rejected(
            Api::HighAccuracy,
            json!({"contents":[{"log_time_ns":t,"log":"fine"},{"log_time_ns":t,"log":v}],"labels":{}}),
            codes::INVALID_LOG,
        );
    }
}

#[test]
fn log_time_ns_must_be_present() {
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":[{"log":"x"}],"labels":{}}),
        codes::INVALID_LOG_TIME,
    );
    assert_body_rejected(
        Api::Standard,
        json!({"contents":["x"],"labels":{}}),
        codes::INVALID_LOG_TIME,
    );
}

#[test]
fn log_time_ns_must_be_a_non_negative_long() {
    let bad = [
        json!(-1),
        json!(1.5e18),
        json!(1586850540000000000.0),
        json!(""),
        json!("12a"),
        json!("-5"),
        json!(" 5"),
        json!("1.5"),
        json!(null),
        json!(true),
        json!(9_223_372_036_854_775_808u64),
        json!("9223372036854775808"),
        json!("99999999999999999999999"),
    ];
    for v in bad {
        assert_body_rejected(
            Api::HighAccuracy,
            json!({"contents":[{"log_time_ns":v,"log":"x"}],"labels":{}}),
            codes::INVALID_LOG_TIME,
        );
    }
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":"soon","contents":["x"],"labels":{}}),
        codes::INVALID_LOG_TIME,
    );
    // base + index overflowing a Long.
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ns":i64::MAX,"contents":["x","y"],"labels":{}}),
        codes::INVALID_LOG_TIME,
    );
}

#[test]
fn unknown_fields_are_400() {
    let t = now_ns();
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":[{"log_time_ns":t,"log":"x"}],"labels":{},"label":{}}),
        codes::UNKNOWN_FIELD,
    );
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"contents":[{"log_time_ns":t,"log":"x","level":"info"}],"labels":{}}),
        codes::UNKNOWN_FIELD,
    );
    // The batch time belongs to the standard endpoint only.
    assert_body_rejected(
        Api::HighAccuracy,
        json!({"log_time_ns":t,"contents":[{"log_time_ns":t,"log":"x"}],"labels":{}}),
        codes::UNKNOWN_FIELD,
    );
    assert_body_rejected(
        Api::Standard,
        json!({"log_time_ms":t,"contents":["x"],"labels":{}}),
        codes::UNKNOWN_FIELD,
    );
}

#[test]
fn line_longer_than_max_line_bytes_is_400() {
    let mock = MockLts::builder().max_line_bytes(8).build().unwrap();
    let t = now_ns();
    // Exactly 8 bytes (4 two-byte characters) is fine.
    let a = post_json(&mock, Api::HighAccuracy, &ha_body(t, &["éééé"]));
    assert_eq!(a.status, 200);
    let a = post_json(&mock, Api::HighAccuracy, &ha_body(t, &["ok", "éééé!"]));
    assert_rejected(&a, 400, codes::LOG_TOO_LONG);
    let a = post_json(&mock, Api::Standard, &std_body(t, &["123456789"]));
    assert_rejected(&a, 400, codes::LOG_TOO_LONG);
    assert_eq!(mock.event_count(), 1);
}

#[test]
fn default_max_line_is_one_mebibyte() {
    let mock = MockLts::start().unwrap();
    let t = now_ns();
    let ok = "a".repeat(1_048_576);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &ha_body(t, &[&ok])).status, 200);
    let long = "a".repeat(1_048_577);
    let a = post_json(&mock, Api::HighAccuracy, &ha_body(t, &[&long]));
    assert_rejected(&a, 400, codes::LOG_TOO_LONG);
}

#[test]
fn body_larger_than_max_body_bytes_is_413() {
    let body = ha_body(now_ns(), &["x"]).to_string();
    let mock = MockLts::builder().max_body_bytes(body.len()).build().unwrap();
    assert_eq!(post(&mock, Api::HighAccuracy, body.as_bytes(), &[]).status, 200);
    let bigger = ha_body(now_ns(), &["xy"]).to_string();
    let a = post(&mock, Api::HighAccuracy, bigger.as_bytes(), &[]);
    assert_rejected(&a, 413, codes::BODY_TOO_LARGE);
    assert_eq!(mock.event_count(), 1);
}

#[test]
fn every_request_is_logged_in_arrival_order() {
    let mock = MockLts::start().unwrap();
    let t = now_ns();
    post_json(&mock, Api::HighAccuracy, &ha_body(t, &["a"]));
    post(&mock, Api::HighAccuracy, b"{", &[]);
    post_json(&mock, Api::Standard, &std_body(t, &["b", "c"]));
    let reqs = mock.requests();
    let got: Vec<(usize, u16, usize)> = reqs.iter().map(|r| (r.index, r.status, r.events)).collect();
    assert_eq!(got, vec![(0, 200, 1), (1, 400, 0), (2, 200, 2)]);
    assert_eq!(mock.requests_with_status(400).len(), 1);
    let ev = mock.events();
    assert_eq!(ev.iter().map(|e| e.request).collect::<Vec<_>>(), vec![0, 2, 2]);
    let s = mock.stats();
    assert_eq!((s.requests, s.accepted_requests, s.events), (3, 2, 3));
}
