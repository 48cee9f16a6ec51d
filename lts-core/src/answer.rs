//! Reading the service's answers: LTS (and IAM) error bodies come in
//! several spellings; one line says what they meant.

/// The service's error code and message when the answer is one of its JSON
/// error bodies (any of the spellings LTS uses), else the answer's start.
pub(crate) fn summarize(answer: &str) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(answer) {
        let pick = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        };
        let code = pick(&["errorCode", "error_code", "code"]);
        let msg = pick(&["error_msg", "errorMessage", "error_message", "message", "msg"]);
        if code.is_some() || msg.is_some() {
            return format!("{} {}", code.unwrap_or_default(), msg.unwrap_or_default())
                .trim()
                .to_owned();
        }
    }
    let mut s: String = answer.chars().filter(|c| !c.is_control()).take(300).collect();
    if s.is_empty() {
        s.push_str("(empty answer)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_in_every_spelling() {
        assert_eq!(
            summarize(r#"{"errorCode":"SVCSTG.ALS.400.001","error_msg":"bad body","result":null}"#),
            "SVCSTG.ALS.400.001 bad body"
        );
        assert_eq!(summarize(r#"{"errorCode":"X","errorMessage":"m"}"#), "X m");
        assert_eq!(
            summarize(r#"{"error_code":"LTS.0009","error_msg":"invalid"}"#),
            "LTS.0009 invalid"
        );
        assert_eq!(summarize("<html>\nbad gateway</html>"), "<html>bad gateway</html>");
        assert_eq!(summarize(""), "(empty answer)");
    }
}
