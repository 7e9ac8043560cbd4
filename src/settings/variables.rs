//! The variables crm-vec reads, with the help that `crm-vec --help` and the manual page show,
//! and the check that finds misspelt ones in `.env`.

/// A variable crm-vec reads.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    /// Secrets are masked by `config show` and never shown in help or errors.
    pub secret: bool,
    /// The flag that overrides the variable, if any.
    pub flag: Option<&'static str>,
    /// One line for `crm-vec --help` and the manual page, with the default in brackets.
    pub help: &'static str,
}

impl Variable {
    /// Returns the help line, followed by the flag that overrides the variable or a mark for a
    /// secret.
    pub fn describe(&self) -> String {
        match (self.flag, self.secret) {
            (Some(flag), _) => format!("{} (flag: {flag})", self.help),
            (None, true) => format!("{} (secret)", self.help),
            (None, false) => self.help.to_string(),
        }
    }
}

const fn variable(name: &'static str, flag: Option<&'static str>, help: &'static str) -> Variable {
    Variable {
        name,
        secret: false,
        flag,
        help,
    }
}

const fn secret(name: &'static str, help: &'static str) -> Variable {
    Variable {
        name,
        secret: true,
        flag: None,
        help,
    }
}

/// Every variable crm-vec reads. `config show`, `crm-vec --help` and the manual page list them
/// in this order.
pub const VARIABLES: &[Variable] = &[
    variable(
        "ODOO_URL",
        Some("--odoo-url"),
        "Odoo base URL, the address you open Odoo at in a browser",
    ),
    variable("ODOO_DB", Some("--odoo-db"), "Odoo database name"),
    variable(
        "ODOO_USERNAME",
        Some("--odoo-username"),
        "Login of the Odoo user crm-vec reads leads as",
    ),
    secret("ODOO_PASSWORD", "Password or API key of that Odoo user"),
    variable(
        "ODOO_PROTOCOL",
        Some("--odoo-protocol"),
        "Odoo API: auto, json2 or jsonrpc [default: auto]",
    ),
    variable(
        "CRM_VEC_DATA_DIR",
        Some("--data-dir"),
        "Directory of the embedded index [default: ~/.local/share/crm-vec]",
    ),
    variable(
        "COLLECTION",
        Some("--collection"),
        "Name of the collection that holds the leads [default: odoo_crm_leads]",
    ),
    variable(
        "EMBEDDINGS_PROVIDER",
        Some("--embeddings-provider"),
        "Dense embedding provider: voyage, openai, local or none [default: voyage when \
         VOYAGE_API_KEY is set, else none]",
    ),
    secret("VOYAGE_API_KEY", "Voyage AI API key"),
    variable(
        "VOYAGE_MODEL",
        None,
        "Voyage model [default: voyage-4-lite]",
    ),
    variable(
        "VOYAGE_DIMENSION",
        None,
        "Vector size Voyage returns: 256, 512, 1024 or 2048 [default: 1024]",
    ),
    variable(
        "VOYAGE_BASE_URL",
        None,
        "Voyage API address [default: https://api.voyageai.com/v1]",
    ),
    variable(
        "EMBEDDINGS_BASE_URL",
        None,
        "Base URL of an OpenAI-compatible embeddings endpoint, for the openai provider",
    ),
    secret("EMBEDDINGS_API_KEY", "API key of that endpoint"),
    variable("EMBEDDINGS_MODEL", None, "Model name at that endpoint"),
    variable(
        "EMBEDDINGS_DIMENSION",
        None,
        "Vector size requested from that endpoint [default: the size of its first answer]",
    ),
    variable(
        "EMBEDDINGS_MODEL_DIR",
        None,
        "Sentence-transformers model directory, for the local provider",
    ),
    variable(
        "EMBEDDINGS_TIMEOUT",
        None,
        "How long one embedding request may take before it is retried, e.g. 90s or 5m \
         [default: 120]",
    ),
    variable(
        "CRM_VEC_ARCHIVED",
        Some("--archived"),
        "Archived (lost) leads: remove them from the index, or keep them hidden from \
         searches [default: remove]",
    ),
    variable(
        "CRM_VEC_LOCK_TIMEOUT",
        Some("--lock-timeout"),
        "How long to wait for another process that has the embedded index open, e.g. 30s or \
         2m [default: 0]",
    ),
    variable(
        "CRM_VEC_PAGE_SIZE",
        None,
        "Leads read from Odoo per request, 1 to 5000 [default: 200]",
    ),
    variable(
        "CRM_VEC_MESSAGES",
        None,
        "Newest chatter messages per lead added to its text, 0 to 100 [default: 5]",
    ),
    variable(
        "QDRANT_URL",
        None,
        "gRPC address of a Qdrant server (port 6334, not 6333) [default: the embedded index]",
    ),
    secret("QDRANT_API_KEY", "API key of that Qdrant server"),
    secret(
        "WEBHOOK_SECRET",
        "Secret that webhooks to `crm-vec serve` must carry, several comma-separated for \
         rotation; required to listen beyond loopback",
    ),
    variable(
        "HOST",
        Some("--host"),
        "Address `crm-vec serve` listens on [default: 127.0.0.1]",
    ),
    variable(
        "PORT",
        Some("--port"),
        "Port `crm-vec serve` listens on [default: 3000]",
    ),
];

/// Prefixes of crm-vec's variables. A `.env` key with one of them that crm-vec does not read is
/// most likely a misspelt setting.
const SETTING_PREFIXES: [&str; 6] = [
    "ODOO_",
    "VOYAGE_",
    "EMBEDDINGS_",
    "CRM_VEC_",
    "QDRANT_",
    "WEBHOOK_",
];

/// Returns a warning for each `.env` key that looks like a crm-vec setting but matches none, with
/// the closest variable name when one is near enough to be a typo of it.
pub fn dotenv_warnings<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut unknown: Vec<&String> = keys.filter(|key| looks_like_setting(key)).collect();
    unknown.sort();
    unknown
        .into_iter()
        .map(|key| match closest_variable(key) {
            Some(name) => format!("{key} in .env is not a crm-vec setting; did you mean {name}?"),
            None => format!("{key} in .env is not a crm-vec setting"),
        })
        .collect()
}

fn looks_like_setting(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SETTING_PREFIXES
        .iter()
        .any(|prefix| upper.starts_with(prefix))
        && !VARIABLES.iter().any(|variable| variable.name == key)
}

/// Finds the variable nearest to `key` by edit distance, if the distance is at most a third of
/// the variable's length (at least 2).
fn closest_variable(key: &str) -> Option<&'static str> {
    let upper = key.to_ascii_uppercase();
    VARIABLES
        .iter()
        .map(|variable| (edit_distance(&upper, variable.name), variable.name))
        .filter(|(distance, name)| *distance <= (name.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Computes the Levenshtein distance between two strings in bytes (variable names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_byte) in a.bytes().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, b_byte) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_byte != *b_byte);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings(keys: &[&str]) -> Vec<String> {
        let keys: Vec<String> = keys.iter().map(|key| key.to_string()).collect();
        dotenv_warnings(keys.iter())
    }

    #[test]
    fn typo_suggests_variable() {
        assert_eq!(
            warnings(&["ODOO_PASWORD", "ODOO_URL"]),
            ["ODOO_PASWORD in .env is not a crm-vec setting; did you mean ODOO_PASSWORD?"]
        );
    }

    #[test]
    fn typos_find_nearest_names() {
        assert_eq!(closest_variable("VOYAGE_APIKEY"), Some("VOYAGE_API_KEY"));
        assert_eq!(
            closest_variable("CRM_VEC_DATADIR"),
            Some("CRM_VEC_DATA_DIR")
        );
        assert_eq!(closest_variable("odoo_url"), Some("ODOO_URL"));
        assert_eq!(closest_variable("ODOO_USER"), Some("ODOO_USERNAME"));
        assert_eq!(closest_variable("ODOO_VERSION"), None);
    }

    #[test]
    fn unrelated_keys_pass_silently() {
        assert!(warnings(&["DATABASE_URL", "HOST"]).is_empty());
    }

    #[test]
    fn unknown_key_without_near_name() {
        assert_eq!(
            warnings(&["ODOO_VERSION"]),
            ["ODOO_VERSION in .env is not a crm-vec setting"]
        );
    }

    #[test]
    fn warnings_are_sorted() {
        let found = warnings(&["QDRANT_KEY", "CRM_VEC_DATADIR"]);
        assert!(found[0].starts_with("CRM_VEC_DATADIR "), "{found:?}");
        assert!(found[1].starts_with("QDRANT_KEY "), "{found:?}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("ODOO_PASWORD", "ODOO_PASSWORD"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
