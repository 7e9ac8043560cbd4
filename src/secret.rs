//! A string that must never reach a log line, an error message or `--help`.

use std::fmt;

/// A password, API key or webhook secret.
///
/// `Debug` and `Display` print a mask; the value is reachable only through
/// [`Secret::expose_secret`], whose name makes every use easy to find in review.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the secret itself. Call it only where the value goes to its destination.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Removes the user info and the query string of a URL, so it can be logged or shown.
///
/// `https://user:pw@host/path?token=x` becomes `https://host/path`.
pub fn redact_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or("");
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(slash) => rest.split_at(slash),
                None => (rest, ""),
            };
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => without_query.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_mask_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(****)");
        assert_eq!(format!("{secret}"), "****");
    }

    #[test]
    fn redact_url_drops_userinfo_and_query() {
        assert_eq!(
            redact_url("https://bot:pw@odoo.example.com/web?token=abc#x"),
            "https://odoo.example.com/web"
        );
        assert_eq!(redact_url("http://127.0.0.1:8069"), "http://127.0.0.1:8069");
        assert_eq!(
            redact_url("http://h:1/webhook/sync?token=t"),
            "http://h:1/webhook/sync"
        );
    }
}
