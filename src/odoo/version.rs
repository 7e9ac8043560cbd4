//! Odoo server versions as `common.version` and `GET /web/version` report them.

use std::fmt;

use serde_json::Value;

/// The version of an Odoo server.
///
/// `raw` keeps the string the server sent (`"17.0-20240709"`, `"saas~18.3"`, `"19.0+e"`), so
/// messages can show it unchanged; `major` and `minor` are what crm-vec decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    pub raw: String,
    pub major: u32,
    pub minor: u32,
}

impl ServerVersion {
    /// Parses `server_version` (or `version`) and, when given, `server_version_info`.
    ///
    /// The list wins when its first two elements parse, because packaged builds append
    /// `-20240709`, `+e` or `+e-20241002` to the string only. On Odoo Online the major in the
    /// list is a string such as `"saas~18"` and the string looks like `"saas~18.3"`. Returns
    /// `None` when neither form contains a number.
    pub fn parse(version: &str, version_info: Option<&Value>) -> Option<ServerVersion> {
        let (major, minor) = version_info
            .and_then(parse_version_info)
            .or_else(|| parse_version_string(version))?;
        let raw = if version.trim().is_empty() {
            format!("{major}.{minor}")
        } else {
            version.trim().to_string()
        };
        Some(ServerVersion { raw, major, minor })
    }

    /// Returns whether the server has the JSON-2 API (`/json/2/<model>/<method>`), new in Odoo 19.0.
    pub fn has_json2(&self) -> bool {
        self.major >= 19
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Reads major and minor from a list such as `[17, 0, 0, "final", 0, ""]` or
/// `["saas~18", 3, 0, "final", 0, ""]`.
fn parse_version_info(info: &Value) -> Option<(u32, u32)> {
    let items = info.as_array()?;
    let major = items.first().and_then(parse_number)?;
    let minor = items.get(1).and_then(parse_number).unwrap_or(0);
    Some((major, minor))
}

/// Reads a list element that is either a JSON number or a string like `"saas~18"`.
fn parse_number(value: &Value) -> Option<u32> {
    match value {
        Value::Number(number) => number.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(text) => leading_number(strip_saas(text)),
        _ => None,
    }
}

/// Reads `"17.0-20240709"`, `"18.0+e-20241002"`, `"19.0+e"` or `"saas~18.3"`.
fn parse_version_string(version: &str) -> Option<(u32, u32)> {
    let version = strip_saas(version.trim());
    let mut parts = version.splitn(2, '.');
    let major = leading_number(parts.next()?)?;
    let minor = parts.next().and_then(leading_number).unwrap_or(0);
    Some((major, minor))
}

fn strip_saas(text: &str) -> &str {
    text.strip_prefix("saas~").unwrap_or(text)
}

/// Parses the digits at the start of `text`, so `"0+e-20241002"` gives 0.
fn leading_number(text: &str) -> Option<u32> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(version: &str, info: Option<Value>) -> (u32, u32) {
        let parsed = ServerVersion::parse(version, info.as_ref()).expect("version parses");
        (parsed.major, parsed.minor)
    }

    #[test]
    fn parse_plain_release() {
        assert_eq!(
            parsed("19.0", Some(json!([19, 0, 0, "final", 0, ""]))),
            (19, 0)
        );
        assert_eq!(parsed("16.0", None), (16, 0));
    }

    #[test]
    fn parse_nightly_suffix() {
        let info = json!([17, 0, 0, "final", 0, ""]);
        assert_eq!(parsed("17.0-20240709", Some(info)), (17, 0));
        assert_eq!(parsed("17.0-20240709", None), (17, 0));
    }

    #[test]
    fn parse_enterprise_suffixes() {
        assert_eq!(parsed("19.0+e", None), (19, 0));
        assert_eq!(parsed("18.0+e-20241002", None), (18, 0));
        let info = json!([18, 0, 0, "final", 0, "e"]);
        assert_eq!(parsed("18.0+e-20241002", Some(info)), (18, 0));
    }

    #[test]
    fn parse_saas_forms() {
        assert_eq!(parsed("saas~18.3", None), (18, 3));
        let info = json!(["saas~18", 3, 0, "final", 0, ""]);
        assert_eq!(parsed("saas~18.3", Some(info)), (18, 3));
        let online = json!(["saas~18", 1, 0, "final", 0, "e"]);
        assert_eq!(parsed("", Some(online)), (18, 1));
    }

    #[test]
    fn parse_keeps_raw_string() {
        let version = ServerVersion::parse("17.0-20240709", None).unwrap();
        assert_eq!(version.raw, "17.0-20240709");
        assert_eq!(version.to_string(), "17.0-20240709");
        let from_info = ServerVersion::parse("", Some(&json!(["saas~18", 1]))).unwrap();
        assert_eq!(from_info.raw, "18.1");
    }

    #[test]
    fn parse_prefers_version_info() {
        // A string without a number still gives a version when the list has one.
        assert_eq!(
            parsed("master", Some(json!([19, 1, 0, "alpha", 1, ""]))),
            (19, 1)
        );
    }

    #[test]
    fn parse_falls_back_to_string_on_odd_list() {
        assert_eq!(parsed("18.0", Some(json!(["final"]))), (18, 0));
        assert_eq!(parsed("18.0", Some(json!({"major": 18}))), (18, 0));
        assert_eq!(parsed("18.0", Some(json!([]))), (18, 0));
    }

    #[test]
    fn parse_rejects_garbage() {
        assert_eq!(ServerVersion::parse("", None), None);
        assert_eq!(ServerVersion::parse("master", None), None);
        assert_eq!(ServerVersion::parse("saas~", Some(&json!([null]))), None);
    }

    #[test]
    fn parse_recorded_common_version() {
        let recorded = [
            (
                include_str!("../../tests/data/recorded/odoo17/jsonrpc_common_version.json"),
                17,
            ),
            (
                include_str!("../../tests/data/recorded/odoo18/jsonrpc_common_version.json"),
                18,
            ),
            (
                include_str!("../../tests/data/recorded/odoo19/jsonrpc_common_version.json"),
                19,
            ),
        ];
        for (body, major) in recorded {
            let answer: Value = serde_json::from_str(body).unwrap();
            let result = &answer["result"];
            let version = ServerVersion::parse(
                result["server_version"].as_str().unwrap(),
                result.get("server_version_info"),
            )
            .unwrap();
            assert_eq!(version.major, major);
            assert_eq!(version.minor, 0);
            assert_eq!(version.has_json2(), major >= 19);
        }
    }
}
