//! The webhook secret: from the `x-webhook-secret` header (scripts, curl) or the `token` query
//! parameter (Odoo, whose webhook action cannot send headers).

use crate::secret::Secret;

/// The secrets that are accepted; several at once while one is being rotated out.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    secrets: Vec<Secret>,
}

impl Auth {
    /// Parses `WEBHOOK_SECRET`: one secret, or several separated by commas.
    pub fn from_setting(value: Option<&str>) -> Auth {
        let secrets = value
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Secret::new)
            .collect();
        Auth { secrets }
    }

    /// Whether requests must carry a secret.
    pub fn required(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Checks the header value and the query token against every secret. Every secret is
    /// compared, in constant time, so the timing reveals nothing about which one matched.
    pub fn allows(&self, header: Option<&str>, token: Option<&str>) -> bool {
        if !self.required() {
            return true;
        }
        let mut allowed = false;
        for secret in &self.secrets {
            let expected = secret.expose_secret().as_bytes();
            for given in [header, token].into_iter().flatten() {
                allowed |= constant_time_eq(given.as_bytes(), expected);
            }
        }
        allowed
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (i, byte) in expected.iter().enumerate() {
        let other = given.get(i).copied().unwrap_or(0);
        difference |= usize::from(byte ^ other);
    }
    difference == 0
}

/// Decodes one `application/x-www-form-urlencoded` value (`%41`, `+` for space).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

/// Finds parameter `name` in a query string and decodes its value.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_or_token_matches() {
        let auth = Auth::from_setting(Some("s3cret"));
        assert!(auth.allows(Some("s3cret"), None));
        assert!(auth.allows(None, Some("s3cret")));
        assert!(!auth.allows(Some("s3cre"), None));
        assert!(!auth.allows(Some("s3cret!"), None));
        assert!(!auth.allows(None, None));
    }

    #[test]
    fn several_secrets_are_active_for_rotation() {
        let auth = Auth::from_setting(Some("old-one, new-one"));
        assert!(auth.allows(None, Some("old-one")));
        assert!(auth.allows(Some("new-one"), None));
        assert!(!auth.allows(Some("old-one, new-one"), None));
    }

    #[test]
    fn no_secret_means_open() {
        let auth = Auth::from_setting(Some(" , "));
        assert!(!auth.required());
        assert!(auth.allows(None, None));
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_param("wait=true&token=a%2Bb+c", "token"),
            Some("a+b c".to_string())
        );
        assert_eq!(query_param("wait", "wait"), Some(String::new()));
        assert_eq!(query_param("x=1", "token"), None);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
