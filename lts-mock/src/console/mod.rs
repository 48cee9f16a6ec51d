//! The local console: a web page of the events the mock received, served
//! beside the reporting endpoints, and the small JSON API it reads.

use std::io::Read;

use crate::server::Shared;

mod api;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// The largest request body the console reads (a fault setting is tiny).
const MAX_BODY: u64 = 64 * 1024;

/// Whether a request target belongs to the console (and not to the service).
pub(crate) fn is_console_target(url: &str) -> bool {
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    path == "/"
        || path == "/index.html"
        || path == "/favicon.ico"
        || path.starts_with("/assets/")
        || path.starts_with("/api/")
}

/// An answer: status, content type, body.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn asset(content_type: &'static str, body: &str) -> Answer {
        Answer {
            status: 200,
            content_type,
            body: body.to_string(),
        }
    }

    fn json(status: u16, value: &serde_json::Value) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: value.to_string(),
        }
    }

    fn error(status: u16, msg: &str) -> Answer {
        Answer::json(status, &serde_json::json!({ "error": msg }))
    }
}

/// Answers one console request.
pub(crate) fn serve(shared: &Shared, mut request: tiny_http::Request) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let method = request.method().clone();
    let get = method == tiny_http::Method::Get;
    let answer = match path {
        "/" | "/index.html" if get => Answer::asset("text/html; charset=utf-8", INDEX_HTML),
        "/assets/app.js" if get => Answer::asset("text/javascript; charset=utf-8", APP_JS),
        "/assets/style.css" if get => Answer::asset("text/css; charset=utf-8", STYLE_CSS),
        "/api/poll" if get => match api::PollQuery::parse(query) {
            Ok(q) => Answer::json(200, &api::poll(shared, &q)),
            Err(e) => Answer::error(400, &e),
        },
        "/api/faults" if get => Answer::json(200, &shared.faults.to_json()),
        "/api/faults" if method == tiny_http::Method::Post => {
            // A JSON content type makes a cross-site form unable to post here
            // without a CORS preflight, which this server never allows.
            let json = request.headers().iter().any(|h| {
                h.field.equiv("Content-Type") && h.value.as_str().to_ascii_lowercase().starts_with("application/json")
            });
            let mut body = String::new();
            let read = request.as_reader().take(MAX_BODY).read_to_string(&mut body);
            if !json {
                Answer::error(415, "POST /api/faults needs Content-Type: application/json")
            } else if read.is_err() {
                Answer::error(400, "the body is not UTF-8 text")
            } else {
                match api::apply_fault(&shared.faults, &body) {
                    Ok(()) => Answer::json(200, &shared.faults.to_json()),
                    Err(e) => Answer::error(400, &e),
                }
            }
        }
        "/" | "/index.html" | "/assets/app.js" | "/assets/style.css" | "/api/poll" | "/api/faults" => {
            Answer::error(405, &format!("method {method} not allowed for {path}"))
        }
        _ => Answer::error(404, &format!("no console resource {path}")),
    };
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], answer.content_type.as_bytes())
        .expect("static header is valid");
    let no_store =
        tiny_http::Header::from_bytes(&b"Cache-Control"[..], &b"no-store"[..]).expect("static header is valid");
    let response = tiny_http::Response::from_string(answer.body)
        .with_status_code(answer.status)
        .with_header(header)
        .with_header(no_store);
    let _ = request.respond(response);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_targets() {
        for t in [
            "/",
            "/?x=1",
            "/favicon.ico",
            "/index.html",
            "/assets/app.js",
            "/api/poll?events=3",
            "/api/faults",
        ] {
            assert!(is_console_target(t), "{t}");
        }
        for t in [
            "/v2/0123456789abcdef0123456789abcdef/lts/groups/g/streams/s/tenant/contents",
            "/v3/auth/tokens?nocatalog=true",
            "/apix",
            "//",
            "",
        ] {
            assert!(!is_console_target(t), "{t}");
        }
    }
}
