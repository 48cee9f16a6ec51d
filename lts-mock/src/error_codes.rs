//! The `errorCode` values the mock answers with.
//!
//! Only [`SUCCESS`] and [`TOKEN`] are documented by the public LTS reference.
//! Every other code here is **invented** by the mock, in the service's
//! `SVCSTG.ALS.<status>.<nnn>` pattern, so that tests can tell the rules apart.
//! A client must not depend on them: it should act on the HTTP status and parse
//! error bodies leniently (the real service also uses `error_code` keys and
//! `LTS.nnnn` codes on other APIs).
//!
//! Every answer body has the shape
//! `{"errorCode":"<code>","error_msg":"<text>","result":null}`; answers on the
//! standard endpoint (`.../tenant/contents`) spell the message key `errorMessage`.

/// Documented: the report was accepted (HTTP 200).
pub const SUCCESS: &str = "SVCSTG.ALS.200.200";
/// Documented: missing, wrong or expired `X-Auth-Token` (HTTP 401).
pub const TOKEN: &str = "SVCSTG.ALS.403.105";

/// Invented: no such route, or a method other than POST (HTTP 404).
pub const NOT_FOUND: &str = "SVCSTG.ALS.404.001";
/// Invented: the project id in the path is not 32 letters/digits (HTTP 400).
pub const BAD_PROJECT_ID: &str = "SVCSTG.ALS.400.101";
/// Invented: the log group id in the path is not a 36-character UUID (HTTP 400).
pub const BAD_LOG_GROUP_ID: &str = "SVCSTG.ALS.400.102";
/// Invented: the log stream id in the path is not a 36-character UUID (HTTP 400).
pub const BAD_LOG_STREAM_ID: &str = "SVCSTG.ALS.400.103";
/// Invented: a well-formed project id that is not the mock's (HTTP 404).
pub const UNKNOWN_PROJECT_ID: &str = "SVCSTG.ALS.404.101";
/// Invented: a well-formed log group id that is not the mock's (HTTP 404).
pub const UNKNOWN_LOG_GROUP_ID: &str = "SVCSTG.ALS.404.102";
/// Invented: a well-formed log stream id that is not the mock's (HTTP 404).
pub const UNKNOWN_LOG_STREAM_ID: &str = "SVCSTG.ALS.404.103";

/// Invented: `Content-Type` missing, repeated or not `application/json;charset=UTF-8` (HTTP 400).
pub const BAD_CONTENT_TYPE: &str = "SVCSTG.ALS.400.201";
/// Invented: `Content-Encoding` repeated or not one of `gzip`, `GZIP`, `snappy`, `SNAPPY` (HTTP 400).
pub const BAD_CONTENT_ENCODING: &str = "SVCSTG.ALS.400.202";
/// Invented: the body does not decompress with the announced encoding (HTTP 400).
pub const BAD_COMPRESSED_BODY: &str = "SVCSTG.ALS.400.203";
/// Invented: the decoded body is larger than `max_body_bytes` (HTTP 413).
pub const BODY_TOO_LARGE: &str = "SVCSTG.ALS.413.204";

/// Invented: the body is not UTF-8 JSON, or not a JSON object (HTTP 400).
pub const MALFORMED_JSON: &str = "SVCSTG.ALS.400.301";
/// Invented: `labels` missing, not an object, or with a non-string value (HTTP 400).
pub const INVALID_LABELS: &str = "SVCSTG.ALS.400.302";
/// Invented: more than 100 labels (HTTP 400).
pub const TOO_MANY_LABELS: &str = "SVCSTG.ALS.400.303";
/// Invented: `contents` missing, not an array, empty, or with elements of the
/// wrong type for the endpoint (HTTP 400).
pub const INVALID_CONTENTS: &str = "SVCSTG.ALS.400.304";
/// Invented: a high-accuracy entry without a string `log` (HTTP 400).
pub const INVALID_LOG: &str = "SVCSTG.ALS.400.305";
/// Invented: a log line longer than `max_line_bytes` bytes (HTTP 400).
pub const LOG_TOO_LONG: &str = "SVCSTG.ALS.400.306";
/// Invented: `log_time_ns` missing, or not a non-negative integer (JSON number
/// or string of digits) that fits a signed 64-bit Long (HTTP 400).
pub const INVALID_LOG_TIME: &str = "SVCSTG.ALS.400.307";
/// Invented: a field the API does not define, at the top level or in an entry (HTTP 400).
pub const UNKNOWN_FIELD: &str = "SVCSTG.ALS.400.308";
/// Invented: `tenant_project_id` present but not a string (HTTP 400).
pub const INVALID_TENANT_PROJECT_ID: &str = "SVCSTG.ALS.400.309";

/// Invented: both `X-Auth-Token` and an `Authorization` signature were sent
/// (HTTP 401). The public reference says nothing about it; the mock refuses the
/// ambiguity so that a client sending both is caught.
pub const TWO_CREDENTIALS: &str = "SVCSTG.ALS.401.200";
/// Invented: an `Authorization` header that is not
/// `SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` (HTTP 401).
pub const AKSK_MALFORMED: &str = "SVCSTG.ALS.401.201";
/// Invented: the access key of a signed request is not registered (HTTP 401).
pub const AKSK_UNKNOWN_KEY: &str = "SVCSTG.ALS.401.202";
/// Invented: `X-Sdk-Date` missing, repeated, malformed, not signed, or more
/// than 15 minutes from now (HTTP 401).
pub const AKSK_BAD_DATE: &str = "SVCSTG.ALS.401.203";
/// Invented: a header named in `SignedHeaders` is not in the request (HTTP 401).
pub const AKSK_MISSING_HEADER: &str = "SVCSTG.ALS.401.204";
/// Invented: the signature does not match the request (HTTP 401).
pub const AKSK_BAD_SIGNATURE: &str = "SVCSTG.ALS.401.205";

/// Invented: injected 400.
pub const INJECTED_400: &str = "SVCSTG.ALS.400.999";
/// Invented: injected 429, write rate exceeded.
pub const TOO_MANY_REQUESTS: &str = "SVCSTG.ALS.429.101";
/// Invented: injected 500.
pub const INTERNAL_ERROR: &str = "SVCSTG.ALS.500.101";
/// Invented: injected 503.
pub const SERVICE_UNAVAILABLE: &str = "SVCSTG.ALS.503.101";

/// The code and message the mock answers with for an injected fault with this
/// status: 401 gives [`TOKEN`], 413 [`BODY_TOO_LARGE`], 429 [`TOO_MANY_REQUESTS`],
/// 500 [`INTERNAL_ERROR`], 503 [`SERVICE_UNAVAILABLE`], 400 [`INJECTED_400`],
/// 200 [`SUCCESS`], any other `SVCSTG.ALS.<status>.999`.
pub fn for_injected_status(status: u16) -> (String, &'static str) {
    let (code, msg): (&str, &'static str) = match status {
        200 => (SUCCESS, "Report success."),
        400 => (INJECTED_400, "Invalid request."),
        401 => (
            TOKEN,
            "Incorrect IAM authentication information: token expired or invalid.",
        ),
        413 => (BODY_TOO_LARGE, "Request body too large."),
        429 => (
            TOO_MANY_REQUESTS,
            "Too many requests: the write rate of the log stream is exceeded.",
        ),
        500 => (INTERNAL_ERROR, "Internal server error."),
        503 => (SERVICE_UNAVAILABLE, "Service unavailable, please retry later."),
        other => {
            return (format!("SVCSTG.ALS.{other}.999"), "Injected error.");
        }
    };
    (code.to_string(), msg)
}
