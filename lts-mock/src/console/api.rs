//! The console's JSON: what `/api/poll` answers and what `/api/faults` takes.

use std::time::Duration;

use serde_json::{json, Value};

use crate::server::Shared;
use crate::{Api, Faults, ReceivedEvent, RequestLog};

/// The most events (and requests) one poll answers unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 2_000;

/// What a poll asks for: the sequence numbers to start from, and how many.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct PollQuery {
    events: u64,
    requests: u64,
    limit: usize,
}

impl PollQuery {
    /// Parses `events=E&requests=R&limit=L` (each optional; others ignored).
    pub(super) fn parse(query: &str) -> Result<PollQuery, String> {
        let mut q = PollQuery {
            events: 0,
            requests: 0,
            limit: DEFAULT_LIMIT,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = || format!("query parameter {k}: want a whole number, got {v:?}");
            match k {
                "events" => q.events = v.parse().map_err(|_| bad())?,
                "requests" => q.requests = v.parse().map_err(|_| bad())?,
                "limit" => q.limit = v.parse::<usize>().map_err(|_| bad())?.max(1),
                _ => {}
            }
        }
        Ok(q)
    }
}

fn api_name(api: Api) -> &'static str {
    match api {
        Api::HighAccuracy => "high-accuracy",
        Api::Standard => "standard",
    }
}

/// The segment after `/streams/` in a reporting path.
fn stream_of(path: &str) -> Option<&str> {
    let rest = path.split_once("/streams/")?.1;
    rest.split(['/', '?']).next().filter(|s| !s.is_empty())
}

/// One event. The time is a string: it does not fit a JavaScript number.
fn event_json(seq: u64, e: &ReceivedEvent, stream: &str) -> Value {
    json!({
        "seq": seq,
        "time_ns": e.time_ns.to_string(),
        "line": e.line,
        "labels": e.labels,
        "api": api_name(e.api),
        "request": e.request,
        "stream": stream,
    })
}

/// One request, without its credential or host.
fn request_json(seq: u64, r: &RequestLog) -> Value {
    json!({
        "seq": seq,
        "index": r.index,
        "method": r.method,
        "path": r.path,
        "stream": if r.iam { None } else { stream_of(&r.path) },
        "status": r.status,
        "error_code": r.error_code,
        "error_msg": r.error_msg,
        "content_encoding": r.content_encoding,
        "wire_bytes": r.wire_bytes,
        "decoded_bytes": r.decoded_bytes,
        "events": r.events,
        "api": r.api.map(api_name),
        "fault": r.fault,
        "attempt": r.attempt,
        "iam": r.iam,
        "auth": r.auth.as_deref().map(|a| a.split(['+', ':']).next().unwrap_or("")),
    })
}

/// The answer to `GET /api/poll`.
pub(super) fn poll(shared: &Shared, q: &PollQuery) -> Value {
    let stream = shared.ids.log_stream_id.as_str();
    let st = shared.store();
    let events: Vec<Value> = st
        .events
        .since(q.events)
        .take(q.limit)
        .map(|(seq, e)| event_json(seq, e, stream))
        .collect();
    let requests: Vec<Value> = st
        .requests
        .since(q.requests)
        .take(q.limit)
        .map(|(seq, r)| request_json(seq, r))
        .collect();
    // Past the last one sent; with none sent, where the ring is now.
    let next = |got: &[Value], asked: u64, first: u64, end: u64| {
        got.last()
            .and_then(|v| v["seq"].as_u64())
            .map_or(asked.clamp(first, end), |s| s + 1)
    };
    let next_events = next(&events, q.events, st.events.evicted(), st.events.next_seq());
    let next_requests = next(&requests, q.requests, st.requests.evicted(), st.requests.next_seq());
    let s = &st.stats;
    json!({
        "events": events,
        "requests": requests,
        "next_events": next_events,
        "next_requests": next_requests,
        "kept_events": st.events.len(),
        "kept_requests": st.requests.len(),
        "evicted_events": st.events.evicted(),
        "evicted_requests": st.requests.evicted(),
        "capacity": st.events.capacity(),
        "stats": {
            "requests": s.requests,
            "accepted_requests": s.accepted_requests,
            "events": s.events,
            "discarded_out_of_window": s.discarded_out_of_window,
            "wire_bytes": s.wire_bytes,
            "decoded_bytes": s.decoded_bytes,
        },
        "stream": {
            "project_id": shared.ids.project_id,
            "log_group_id": shared.ids.log_group_id,
            "log_stream_id": stream,
        },
        "faults": shared.faults.to_json(),
    })
}

/// Applies one fault setting from `POST /api/faults`.
pub(super) fn apply_fault(faults: &Faults, body: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let action = v["action"]
        .as_str()
        .ok_or("the body needs \"action\": fail_next, fail_fraction, delay_next, drop_next or clear")?;
    let uint = |name: &str| -> Result<u64, String> {
        v[name]
            .as_u64()
            .ok_or_else(|| format!("{action} needs \"{name}\", a whole number"))
    };
    let count = |name: &str| -> Result<usize, String> {
        uint(name).and_then(|n| {
            usize::try_from(n)
                .ok()
                .filter(|n| *n <= 1_000_000)
                .ok_or_else(|| format!("\"{name}\" must be at most 1000000"))
        })
    };
    let status = || -> Result<u16, String> {
        uint("status")?
            .try_into()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| format!("{action} needs \"status\" between 100 and 599"))
    };
    match action {
        "fail_next" => faults.fail_next(count("n")?, status()?),
        "drop_next" => faults.drop_next(count("n")?),
        "delay_next" => {
            let ms = uint("ms")?;
            if ms > 600_000 {
                return Err("\"ms\" must be at most 600000 (ten minutes)".into());
            }
            faults.delay_next(count("n")?, Duration::from_millis(ms));
        }
        "fail_fraction" => {
            let p = v["p"]
                .as_f64()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or("fail_fraction needs \"p\" between 0 and 1")?;
            let seed = if v["seed"].is_null() { 1 } else { uint("seed")? };
            faults.fail_fraction(p, status()?, seed);
        }
        "clear" => faults.clear(),
        other => return Err(format!("unknown action {other:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_query() {
        assert_eq!(
            PollQuery::parse("").unwrap(),
            PollQuery {
                events: 0,
                requests: 0,
                limit: DEFAULT_LIMIT
            }
        );
        assert_eq!(
            PollQuery::parse("events=12&requests=3&limit=5&x=y").unwrap(),
            PollQuery {
                events: 12,
                requests: 3,
                limit: 5
            }
        );
        assert_eq!(
            PollQuery::parse("events=-1").unwrap_err(),
            "query parameter events: want a whole number, got \"-1\""
        );
        assert!(PollQuery::parse("limit=").is_err());
    }

    #[test]
    fn stream_from_path() {
        let p = "/v2/0123456789abcdef0123456789abcdef/lts/groups/g-1/streams/s-2/tenant/contents/high-accuracy";
        assert_eq!(stream_of(p), Some("s-2"));
        assert_eq!(stream_of("/v2/x/streams/"), None);
        assert_eq!(stream_of("/v3/auth/tokens"), None);
    }

    #[test]
    fn fault_actions() {
        let f = Faults::new("t".into());
        apply_fault(&f, r#"{"action":"fail_next","n":2,"status":503}"#).unwrap();
        apply_fault(&f, r#"{"action":"delay_next","n":1,"ms":250}"#).unwrap();
        apply_fault(&f, r#"{"action":"fail_fraction","p":0.5,"status":429}"#).unwrap();
        let j = f.to_json();
        assert_eq!(j["fail_next"], 2);
        assert_eq!(j["fail_next_status"], 503);
        assert_eq!(j["delay_next"], 1);
        assert_eq!(j["delay_ms"], 250);
        assert_eq!(j["fail_fraction"], 0.5);
        assert_eq!(j["fail_fraction_status"], 429);
        apply_fault(&f, r#"{"action":"clear"}"#).unwrap();
        assert_eq!(f.to_json()["fail_next"], 0);
        assert_eq!(f.to_json()["fail_fraction"], Value::Null);

        for (body, err) in [
            ("nope", "the body is not JSON"),
            ("{}", "the body needs \"action\""),
            (
                r#"{"action":"fail_next","status":503}"#,
                "fail_next needs \"n\", a whole number",
            ),
            (
                r#"{"action":"fail_next","n":1,"status":700}"#,
                "fail_next needs \"status\" between 100 and 599",
            ),
            (
                r#"{"action":"fail_fraction","p":2,"status":503}"#,
                "fail_fraction needs \"p\" between 0 and 1",
            ),
            (
                r#"{"action":"delay_next","n":1,"ms":600001}"#,
                "\"ms\" must be at most 600000",
            ),
            (r#"{"action":"hang_next","n":1}"#, "unknown action \"hang_next\""),
        ] {
            let e = apply_fault(&f, body).unwrap_err();
            assert!(e.starts_with(err), "{body}: {e}");
        }
        assert_eq!(f.to_json()["fail_next"], 0, "a refused setting changes nothing");
    }
}
