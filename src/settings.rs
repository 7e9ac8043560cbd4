//! Resolved settings: a flag beats an environment variable, which beats a `.env` file in the
//! working directory, which beats the default. Every value keeps its source, so `config
//! show` can report it.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::GlobalArgs;
use crate::embed::openai::OpenAiSettings;
use crate::embed::voyage::VoyageSettings;
use crate::embed::RetryPolicy;
use crate::index::server::QdrantSettings;
use crate::odoo::{OdooSettings, ProtocolChoice};
use crate::secret::Secret;

mod variables;

pub use variables::{Variable, VARIABLES};

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    DotEnv,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Flag => "flag",
            Source::Env => "environment",
            Source::DotEnv => ".env",
            Source::Default => "default",
        })
    }
}

/// The raw layers settings are resolved from.
#[derive(Debug, Default, Clone)]
pub struct Layers {
    /// Values given as command-line flags, by environment variable name.
    pub flags: HashMap<String, String>,
    /// The process environment.
    pub env: HashMap<String, String>,
    /// The `.env` file, when there is one.
    pub dotenv: HashMap<String, String>,
}

/// Errors in the settings themselves, before anything is contacted.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("missing required settings: {}", names.join(", "))]
    Missing { names: Vec<String> },
    #[error("invalid value for {name}: {message}")]
    Invalid { name: String, message: String },
    #[error("could not read {path}: {message}")]
    DotEnv { path: String, message: String },
}

impl SettingsError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SettingsError::Missing { names } => {
                let them = if names.len() == 1 { "it" } else { "them" };
                let mut hint = format!(
                    "set {them} in the environment or in a .env file in this directory \
                     (see .env.example)"
                );
                let embedding = names
                    .iter()
                    .any(|name| name.starts_with("VOYAGE_") || name.starts_with("EMBEDDINGS_"));
                if embedding {
                    hint.push_str(
                        ", or choose another EMBEDDINGS_PROVIDER (none searches by keywords only)",
                    );
                }
                Some(hint)
            }
            _ => None,
        }
    }
}

pub const DEFAULT_COLLECTION: &str = "odoo_crm_leads";
pub const DEFAULT_VOYAGE_MODEL: &str = "voyage-4-lite";
pub const DEFAULT_VOYAGE_DIMENSION: usize = 1024;
pub const DEFAULT_VOYAGE_BASE_URL: &str = "https://api.voyageai.com/v1";
/// Seconds one embedding request may take before it counts as failed and is retried.
pub const DEFAULT_EMBEDDINGS_TIMEOUT_S: u64 = 120;
/// How to get a binary that runs the local model, for errors of binaries built without it.
pub const LOCAL_FEATURE_HINT: &str = "a crm-vec built with the `local` feature: \
     cargo install --locked --path . --features local";

/// What happens to archived (lost) leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchivePolicy {
    /// Archived leads leave the index.
    Remove,
    /// Archived leads stay with `active: false`; searches hide them unless asked.
    Keep,
}

/// The dense embedding provider, fully configured.
#[derive(Debug, Clone)]
pub enum EmbeddingSettings {
    None,
    Voyage(VoyageSettings),
    OpenAi(OpenAiSettings),
    /// A sentence-transformers model directory run in-process. Only a binary built with the
    /// `local` feature resolves to this.
    Local {
        model_dir: PathBuf,
    },
}

/// One resolved value, as `config show` reports it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: &'static str,
    /// The value, masked for secrets; `None` when unset.
    pub display: Option<String>,
    pub source: Source,
    /// The variable a default value was derived from, if any.
    pub derived_from: Option<&'static str>,
}

/// The resolved settings of one invocation.
#[derive(Debug, Clone)]
pub struct Settings {
    values: HashMap<&'static str, (String, Source)>,
    pub data_dir: PathBuf,
    pub collection: String,
    pub archived: ArchivePolicy,
    pub lock_timeout: Duration,
    pub embeddings: EmbeddingSettings,
}

impl Layers {
    /// Reads the process environment and `.env` in `dir`, and the flags given on the command
    /// line.
    pub fn from_process(
        args: &GlobalArgs,
        matches: &clap::ArgMatches,
        dir: &Path,
    ) -> Result<Self, SettingsError> {
        let mut layers = Layers::default();
        for Variable { name, .. } in VARIABLES {
            match std::env::var(name) {
                Ok(value) => {
                    layers.env.insert(name.to_string(), value);
                }
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(SettingsError::Invalid {
                        name: name.to_string(),
                        message: "the environment variable is not valid UTF-8".to_string(),
                    })
                }
            }
        }
        layers.dotenv = read_dotenv(&dir.join(".env"))?;
        layers.flags = flag_values(args, matches);
        Ok(layers)
    }

    /// Returns the value of the first layer that sets `name`. An empty value counts as unset,
    /// as in the shell's `VAR= command` idiom, so the next layer applies.
    fn get(&self, name: &'static str) -> Option<(String, Source)> {
        [
            (&self.flags, Source::Flag),
            (&self.env, Source::Env),
            (&self.dotenv, Source::DotEnv),
        ]
        .into_iter()
        .find_map(|(layer, source)| {
            let value = layer.get(name).filter(|value| !value.trim().is_empty())?;
            Some((value.clone(), source))
        })
    }
}

impl Layers {
    /// Returns a warning for each `.env` key that looks like a misspelt crm-vec setting.
    pub fn dotenv_warnings(&self) -> Vec<String> {
        variables::dotenv_warnings(self.dotenv.keys())
    }
}

/// Collects the values the user typed as flags, keyed by the variable they override.
fn flag_values(args: &GlobalArgs, matches: &clap::ArgMatches) -> HashMap<String, String> {
    let candidates: [(&str, &str, Option<String>); 9] = [
        ("odoo_url", "ODOO_URL", args.odoo_url.clone()),
        ("odoo_db", "ODOO_DB", args.odoo_db.clone()),
        ("odoo_username", "ODOO_USERNAME", args.odoo_username.clone()),
        ("odoo_protocol", "ODOO_PROTOCOL", args.odoo_protocol.clone()),
        (
            "data_dir",
            "CRM_VEC_DATA_DIR",
            args.data_dir.as_ref().map(|p| p.display().to_string()),
        ),
        ("collection", "COLLECTION", args.collection.clone()),
        (
            "embeddings_provider",
            "EMBEDDINGS_PROVIDER",
            args.embeddings_provider.clone(),
        ),
        ("archived", "CRM_VEC_ARCHIVED", args.archived.clone()),
        (
            "lock_timeout",
            "CRM_VEC_LOCK_TIMEOUT",
            args.lock_timeout.clone(),
        ),
    ];
    let mut flags = HashMap::new();
    for (id, name, value) in candidates {
        let typed = matches!(
            find_value_source(matches, id),
            Some(clap::parser::ValueSource::CommandLine)
        );
        if let (true, Some(value)) = (typed, value) {
            flags.insert(name.to_string(), value);
        }
    }
    flags
}

/// Finds where clap took an argument's value from, looking into the subcommand too, since
/// global flags may be typed after it.
fn find_value_source(matches: &clap::ArgMatches, id: &str) -> Option<clap::parser::ValueSource> {
    let own = matches.value_source(id);
    let sub = matches
        .subcommand()
        .and_then(|(_, sub)| find_value_source(sub, id));
    match (own, sub) {
        (Some(clap::parser::ValueSource::CommandLine), _) => own,
        (_, Some(clap::parser::ValueSource::CommandLine)) => sub,
        _ => own.or(sub),
    }
}

/// Reads a `.env` file; a missing file is an empty layer, a malformed one an error.
pub fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, SettingsError> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(HashMap::new())
        }
        Err(err) => {
            return Err(SettingsError::DotEnv {
                path: path.display().to_string(),
                message: describe_dotenv_error(path, &err),
            })
        }
    };
    let mut values = HashMap::new();
    for item in iter {
        let (key, value) = item.map_err(|err| SettingsError::DotEnv {
            path: path.display().to_string(),
            message: describe_dotenv_error(path, &err),
        })?;
        values.insert(key, value);
    }
    Ok(values)
}

/// Describes a `.env` error by line number and variable name. dotenvy's own message quotes
/// the rest of the file from the bad entry on, which can contain a password or an API key.
fn describe_dotenv_error(path: &Path, err: &dotenvy::Error) -> String {
    let content = std::fs::read(path).unwrap_or_default();
    match err {
        dotenvy::Error::LineParse(rest, _) => {
            let text = String::from_utf8_lossy(&content);
            let line = text
                .find(rest.as_str())
                .map(|at| text[..at].matches('\n').count() + 1);
            let entry = rest.lines().next().unwrap_or_default();
            let entry = entry.trim_start().trim_start_matches("export ");
            let name: String = entry
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .take(64)
                .collect();
            let place = match line {
                Some(line) => format!("line {line}"),
                None => "an entry".to_string(),
            };
            let variable = if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            };
            format!(
                "invalid syntax at {place}{variable}: expected NAME=value, with quotes closed and \
                 no unquoted spaces in the value (the value is not shown)"
            )
        }
        dotenvy::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            match std::str::from_utf8(&content) {
                Err(utf8) => {
                    let line = content[..utf8.valid_up_to()]
                        .iter()
                        .filter(|byte| **byte == b'\n')
                        .count()
                        + 1;
                    format!("line {line} is not valid UTF-8")
                }
                Ok(_) => io.to_string(),
            }
        }
        other => other.to_string(),
    }
}

impl Settings {
    /// Resolves every setting from the layers and checks the values that do not depend on
    /// the command. Values needed only by some commands are checked by their accessors.
    pub fn resolve(layers: &Layers) -> Result<Self, SettingsError> {
        let mut values = HashMap::new();
        for Variable { name, .. } in VARIABLES {
            if let Some(found) = layers.get(name) {
                values.insert(*name, found);
            }
        }
        let mut settings = Settings {
            values,
            data_dir: PathBuf::new(),
            collection: String::new(),
            archived: ArchivePolicy::Remove,
            lock_timeout: Duration::ZERO,
            embeddings: EmbeddingSettings::None,
        };
        match settings.check(&layers.env) {
            Ok(()) => Ok(settings),
            Err(err) => Err(settings.name_flag(err)),
        }
    }

    fn check(&mut self, env: &HashMap<String, String>) -> Result<(), SettingsError> {
        self.data_dir = match self.value("CRM_VEC_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => default_data_dir(env)?,
        };
        self.collection = self
            .value("COLLECTION")
            .unwrap_or(DEFAULT_COLLECTION)
            .to_string();
        validate_collection(&self.collection)?;
        self.archived = match self.value("CRM_VEC_ARCHIVED") {
            None | Some("remove") => ArchivePolicy::Remove,
            Some("keep") => ArchivePolicy::Keep,
            Some(other) => return Err(invalid("CRM_VEC_ARCHIVED", other, "remove or keep")),
        };
        self.lock_timeout = match self.value("CRM_VEC_LOCK_TIMEOUT") {
            None => Duration::ZERO,
            Some(text) => parse_timeout("CRM_VEC_LOCK_TIMEOUT", text)?,
        };
        if let Some(secret) = self.value("WEBHOOK_SECRET") {
            if secret.split(',').all(|part| part.trim().is_empty()) {
                return Err(SettingsError::Invalid {
                    name: "WEBHOOK_SECRET".to_string(),
                    message: "it contains only commas or spaces, no secret; set a secret or \
                              leave it unset"
                        .to_string(),
                });
            }
        }
        self.embedding_retry()?;
        self.embeddings = self.resolve_embeddings()?;
        self.page_size()?;
        self.messages_per_lead()?;
        Ok(())
    }

    /// Names the flag instead of the variable in an error about a value typed as that flag.
    fn name_flag(&self, err: SettingsError) -> SettingsError {
        let SettingsError::Invalid { name, message } = err else {
            return err;
        };
        let flag = VARIABLES
            .iter()
            .find(|variable| variable.name == name)
            .and_then(|variable| variable.flag)
            .filter(|_| self.source(&name) == Source::Flag);
        SettingsError::Invalid {
            name: flag.map_or(name, str::to_string),
            message,
        }
    }

    /// The value of a variable after precedence, if set.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|(value, _)| value.as_str())
    }

    /// Where a variable's value came from.
    pub fn source(&self, name: &str) -> Source {
        self.values
            .get(name)
            .map(|(_, source)| *source)
            .unwrap_or(Source::Default)
    }

    /// Every variable with its value (secrets masked) and source, for `config show`.
    pub fn report(&self) -> Vec<Resolved> {
        VARIABLES
            .iter()
            .map(|variable| {
                let name = variable.name;
                let display = match (self.value(name), variable.secret) {
                    (Some(_), true) => Some("****".to_string()),
                    (Some(value), false) => Some(value.to_string()),
                    (None, _) => self.default_display(name),
                };
                Resolved {
                    name,
                    display,
                    source: self.source(name),
                    derived_from: self.derived_from(name),
                }
            })
            .collect()
    }

    fn default_display(&self, name: &str) -> Option<String> {
        match name {
            "ODOO_PROTOCOL" => Some("auto".to_string()),
            "CRM_VEC_DATA_DIR" => Some(self.data_dir.display().to_string()),
            "COLLECTION" => Some(DEFAULT_COLLECTION.to_string()),
            "EMBEDDINGS_PROVIDER" => Some(self.provider_name().to_string()),
            "VOYAGE_MODEL" => Some(DEFAULT_VOYAGE_MODEL.to_string()),
            "VOYAGE_DIMENSION" => Some(DEFAULT_VOYAGE_DIMENSION.to_string()),
            "VOYAGE_BASE_URL" => Some(DEFAULT_VOYAGE_BASE_URL.to_string()),
            "CRM_VEC_ARCHIVED" => Some("remove".to_string()),
            "CRM_VEC_LOCK_TIMEOUT" => Some("0".to_string()),
            "EMBEDDINGS_TIMEOUT" => Some(DEFAULT_EMBEDDINGS_TIMEOUT_S.to_string()),
            "CRM_VEC_PAGE_SIZE" => Some(crate::sync::DEFAULT_PAGE_SIZE.to_string()),
            "CRM_VEC_MESSAGES" => {
                Some(crate::sync::messages::DEFAULT_MESSAGES_PER_LEAD.to_string())
            }
            "HOST" => Some(crate::serve::DEFAULT_HOST.to_string()),
            "PORT" => Some(crate::serve::DEFAULT_PORT.to_string()),
            _ => None,
        }
    }

    /// Returns the variable a default was derived from: `EMBEDDINGS_PROVIDER` is `voyage` when it is
    /// unset and `VOYAGE_API_KEY` is set.
    fn derived_from(&self, name: &str) -> Option<&'static str> {
        let derived = name == "EMBEDDINGS_PROVIDER"
            && self.value(name).is_none()
            && self.value("VOYAGE_API_KEY").is_some();
        derived.then_some("VOYAGE_API_KEY")
    }

    /// `voyage`, `openai`, `local` or `none`.
    pub fn provider_name(&self) -> &'static str {
        match self.embeddings {
            EmbeddingSettings::None => "none",
            EmbeddingSettings::Voyage(_) => "voyage",
            EmbeddingSettings::OpenAi(_) => "openai",
            EmbeddingSettings::Local { .. } => "local",
        }
    }

    /// Leads read from Odoo per request (`CRM_VEC_PAGE_SIZE`, 1 to 5,000).
    pub fn page_size(&self) -> Result<usize, SettingsError> {
        match self.value("CRM_VEC_PAGE_SIZE") {
            None => Ok(crate::sync::DEFAULT_PAGE_SIZE),
            Some(text) => match text.trim().parse::<usize>() {
                Ok(size) if (1..=5_000).contains(&size) => Ok(size),
                _ => Err(SettingsError::Invalid {
                    name: "CRM_VEC_PAGE_SIZE".to_string(),
                    message: format!("'{}' is not a page size from 1 to 5000", shorten(text)),
                }),
            },
        }
    }

    /// Chatter messages per lead that go into its text (`CRM_VEC_MESSAGES`, 0 to 100; 0 turns
    /// chatter off).
    pub fn messages_per_lead(&self) -> Result<usize, SettingsError> {
        match self.value("CRM_VEC_MESSAGES") {
            None => Ok(crate::sync::messages::DEFAULT_MESSAGES_PER_LEAD),
            Some(text) => match text.trim().parse::<usize>() {
                Ok(count) if count <= 100 => Ok(count),
                _ => Err(SettingsError::Invalid {
                    name: "CRM_VEC_MESSAGES".to_string(),
                    message: format!("'{}' is not a message count from 0 to 100", shorten(text)),
                }),
            },
        }
    }

    /// The Odoo connection settings, or one error that lists every missing variable.
    pub fn odoo(&self) -> Result<OdooSettings, SettingsError> {
        self.odoo_settings().map_err(|err| self.name_flag(err))
    }

    fn odoo_settings(&self) -> Result<OdooSettings, SettingsError> {
        let required = ["ODOO_URL", "ODOO_DB", "ODOO_USERNAME", "ODOO_PASSWORD"];
        let missing: Vec<String> = required
            .iter()
            .filter(|name| self.value(name).is_none())
            .map(|name| name.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(SettingsError::Missing { names: missing });
        }
        let url = self
            .value("ODOO_URL")
            .unwrap_or_default()
            .trim()
            .to_string();
        validate_http_url("ODOO_URL", &url)?;
        let protocol = match self.value("ODOO_PROTOCOL") {
            None | Some("auto") => ProtocolChoice::Auto,
            Some("jsonrpc") => ProtocolChoice::JsonRpc,
            Some("json2") => ProtocolChoice::Json2,
            Some(other) => return Err(invalid("ODOO_PROTOCOL", other, "auto, jsonrpc or json2")),
        };
        Ok(OdooSettings {
            url: url.trim_end_matches('/').to_string(),
            database: self.value("ODOO_DB").unwrap_or_default().to_string(),
            username: self.value("ODOO_USERNAME").unwrap_or_default().to_string(),
            password: Secret::new(self.value("ODOO_PASSWORD").unwrap_or_default()),
            protocol,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
        })
    }

    /// The Odoo URL if set, for display even when other Odoo settings are missing.
    pub fn odoo_url(&self) -> Option<&str> {
        self.value("ODOO_URL")
    }

    /// The Qdrant server that holds the index, or `None` for the embedded index.
    ///
    /// `QDRANT_API_KEY` must be visible ASCII, because it travels in a request header; the
    /// error never shows the key.
    pub fn qdrant(&self) -> Result<Option<QdrantSettings>, SettingsError> {
        let Some(url) = self.value("QDRANT_URL") else {
            return Ok(None);
        };
        let url = url.trim().trim_end_matches('/').to_string();
        validate_http_url("QDRANT_URL", &url)?;

        let api_key = match self.value("QDRANT_API_KEY").map(str::trim) {
            None => None,
            Some(key) if key.bytes().all(|b| b.is_ascii_graphic()) => Some(Secret::new(key)),
            Some(_) => {
                return Err(SettingsError::Invalid {
                    name: "QDRANT_API_KEY".to_string(),
                    message: "the key contains spaces or characters outside visible ASCII; \
                              copy it again"
                        .to_string(),
                })
            }
        };
        Ok(Some(QdrantSettings::new(url, api_key)))
    }

    fn resolve_embeddings(&self) -> Result<EmbeddingSettings, SettingsError> {
        let provider = match self.value("EMBEDDINGS_PROVIDER") {
            Some(name) => name.to_ascii_lowercase(),
            None if self.value("VOYAGE_API_KEY").is_some() => "voyage".to_string(),
            None => "none".to_string(),
        };
        match provider.as_str() {
            "none" => Ok(EmbeddingSettings::None),
            "voyage" => self.voyage().map(EmbeddingSettings::Voyage),
            "openai" => self.openai().map(EmbeddingSettings::OpenAi),
            "local" => self.local(),
            other => Err(invalid(
                "EMBEDDINGS_PROVIDER",
                other,
                "voyage, openai, local or none",
            )),
        }
    }

    fn local(&self) -> Result<EmbeddingSettings, SettingsError> {
        if !cfg!(feature = "local") {
            return Err(SettingsError::Invalid {
                name: "EMBEDDINGS_PROVIDER".to_string(),
                message: format!("'local' needs {LOCAL_FEATURE_HINT}"),
            });
        }
        let model_dir =
            self.value("EMBEDDINGS_MODEL_DIR")
                .ok_or_else(|| SettingsError::Missing {
                    names: vec!["EMBEDDINGS_MODEL_DIR".to_string()],
                })?;
        Ok(EmbeddingSettings::Local {
            model_dir: PathBuf::from(model_dir),
        })
    }

    /// Returns the retry policy of the HTTP embedding providers, with `EMBEDDINGS_TIMEOUT` as
    /// the timeout of one request.
    fn embedding_retry(&self) -> Result<RetryPolicy, SettingsError> {
        let request_timeout = match self.value("EMBEDDINGS_TIMEOUT") {
            None => Duration::from_secs(DEFAULT_EMBEDDINGS_TIMEOUT_S),
            Some(text) => {
                let timeout = parse_timeout("EMBEDDINGS_TIMEOUT", text)?;
                if timeout.is_zero() {
                    return Err(SettingsError::Invalid {
                        name: "EMBEDDINGS_TIMEOUT".to_string(),
                        message: format!("'{}' is not a duration above 0", shorten(text)),
                    });
                }
                timeout
            }
        };
        Ok(RetryPolicy {
            request_timeout,
            ..RetryPolicy::default()
        })
    }

    fn voyage(&self) -> Result<VoyageSettings, SettingsError> {
        let api_key = self
            .value("VOYAGE_API_KEY")
            .ok_or_else(|| SettingsError::Missing {
                names: vec!["VOYAGE_API_KEY".to_string()],
            })?;
        let dimension = match self.value("VOYAGE_DIMENSION") {
            None => DEFAULT_VOYAGE_DIMENSION,
            Some(text) => parse_dimension("VOYAGE_DIMENSION", text)?,
        };
        let base_url = self
            .value("VOYAGE_BASE_URL")
            .unwrap_or(DEFAULT_VOYAGE_BASE_URL)
            .trim_end_matches('/')
            .to_string();
        validate_http_url("VOYAGE_BASE_URL", &base_url)?;
        Ok(VoyageSettings {
            api_key: Secret::new(api_key),
            model: self
                .value("VOYAGE_MODEL")
                .unwrap_or(DEFAULT_VOYAGE_MODEL)
                .to_string(),
            dimension,
            base_url,
            retry: self.embedding_retry()?,
        })
    }

    fn openai(&self) -> Result<OpenAiSettings, SettingsError> {
        let missing: Vec<String> = ["EMBEDDINGS_BASE_URL", "EMBEDDINGS_MODEL"]
            .iter()
            .filter(|name| self.value(name).is_none())
            .map(|name| name.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(SettingsError::Missing { names: missing });
        }
        let base_url = self
            .value("EMBEDDINGS_BASE_URL")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string();
        validate_http_url("EMBEDDINGS_BASE_URL", &base_url)?;
        let dimension = self
            .value("EMBEDDINGS_DIMENSION")
            .map(|text| parse_dimension("EMBEDDINGS_DIMENSION", text))
            .transpose()?;
        Ok(OpenAiSettings {
            base_url,
            api_key: self.value("EMBEDDINGS_API_KEY").map(Secret::new),
            model: self
                .value("EMBEDDINGS_MODEL")
                .unwrap_or_default()
                .to_string(),
            dimension,
            retry: self.embedding_retry()?,
        })
    }
}

fn invalid(name: &str, value: &str, expected: &str) -> SettingsError {
    SettingsError::Invalid {
        name: name.to_string(),
        message: format!("'{}' is not one of {expected}", shorten(value)),
    }
}

/// Cuts a user-supplied value for display in an error message.
fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    if value.chars().count() <= MAX_CHARS {
        value.to_string()
    } else {
        let head: String = value.chars().take(MAX_CHARS).collect();
        format!("{head}…")
    }
}

/// Parses a timeout: a number with `ms`, `s`, `m` or `h`, or a bare number of seconds, up
/// to 24 hours.
fn parse_timeout(name: &str, text: &str) -> Result<Duration, SettingsError> {
    const MAX: Duration = Duration::from_secs(86_400);
    match crate::cli::parse_duration(text) {
        Ok(timeout) if timeout <= MAX => Ok(timeout),
        _ => Err(SettingsError::Invalid {
            name: name.to_string(),
            message: format!(
                "'{}' is not a duration from 0 to 24h, such as 30s, 2m or 90 (seconds)",
                shorten(text)
            ),
        }),
    }
}

fn parse_dimension(name: &str, text: &str) -> Result<usize, SettingsError> {
    match text.trim().parse::<usize>() {
        Ok(dimension) if (1..=65_536).contains(&dimension) => Ok(dimension),
        _ => Err(SettingsError::Invalid {
            name: name.to_string(),
            message: format!("'{}' is not a vector dimension (1 to 65536)", shorten(text)),
        }),
    }
}

fn validate_http_url(name: &str, url: &str) -> Result<(), SettingsError> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    // Credentials are masked before the value is shortened, so that a cut inside them cannot
    // leave part of a password in the message.
    let redacted = shorten(&crate::secret::redact_url(url));
    let problem = match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {
            if url.contains(char::is_whitespace) {
                Some(format!(
                    "'{redacted}' contains whitespace (write a space in a password as %20)"
                ))
            } else {
                reqwest::Url::parse(url)
                    .err()
                    .map(|err| format!("'{redacted}' is not a valid URL: {err}"))
            }
        }
        _ => Some(format!("'{redacted}' is not an http:// or https:// URL")),
    };
    match problem {
        None => Ok(()),
        Some(message) => Err(SettingsError::Invalid {
            name: name.to_string(),
            message,
        }),
    }
}

/// Collection names become directory names and Qdrant collection names, so they are kept to a
/// portable alphabet.
fn validate_collection(name: &str) -> Result<(), SettingsError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(SettingsError::Invalid {
            name: "COLLECTION".to_string(),
            message: format!(
                "'{}' must be 1 to 64 letters, digits, '_' or '-'",
                shorten(name)
            ),
        })
    }
}

/// The platform data directory: `$XDG_DATA_HOME/crm-vec`, else `~/.local/share/crm-vec`
/// (`~/Library/Application Support/crm-vec` on macOS).
fn default_data_dir(env: &HashMap<String, String>) -> Result<PathBuf, SettingsError> {
    if let Some(dir) = env.get("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("crm-vec"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| SettingsError::Missing {
            names: vec!["CRM_VEC_DATA_DIR (HOME is not set)".to_string()],
        })?;
    let base = if cfg!(target_os = "macos") {
        PathBuf::from(home).join("Library/Application Support")
    } else {
        PathBuf::from(home).join(".local/share")
    };
    Ok(base.join("crm-vec"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(flags: &[(&str, &str)], env: &[(&str, &str)], dotenv: &[(&str, &str)]) -> Layers {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let mut env = map(env);
        env.entry("XDG_DATA_HOME".to_string())
            .or_insert_with(|| "/tmp/xdg".to_string());
        Layers {
            flags: map(flags),
            env,
            dotenv: map(dotenv),
        }
    }

    #[test]
    fn flag_beats_env() {
        let settings = Settings::resolve(&layers(
            &[("COLLECTION", "from_flag")],
            &[("COLLECTION", "from_env")],
            &[("COLLECTION", "from_dotenv")],
        ))
        .unwrap();
        assert_eq!(settings.collection, "from_flag");
        assert_eq!(settings.source("COLLECTION"), Source::Flag);
    }

    #[test]
    fn env_beats_dotenv() {
        let settings = Settings::resolve(&layers(
            &[],
            &[("COLLECTION", "from_env")],
            &[("COLLECTION", "from_dotenv")],
        ))
        .unwrap();
        assert_eq!(settings.collection, "from_env");
        assert_eq!(settings.source("COLLECTION"), Source::Env);
    }

    #[test]
    fn dotenv_beats_default() {
        let settings =
            Settings::resolve(&layers(&[], &[], &[("COLLECTION", "from_dotenv")])).unwrap();
        assert_eq!(settings.collection, "from_dotenv");
        assert_eq!(settings.source("COLLECTION"), Source::DotEnv);
    }

    #[test]
    fn default_applies_last() {
        let settings = Settings::resolve(&layers(&[], &[], &[])).unwrap();
        assert_eq!(settings.collection, DEFAULT_COLLECTION);
        assert_eq!(settings.source("COLLECTION"), Source::Default);
        assert_eq!(settings.data_dir, PathBuf::from("/tmp/xdg/crm-vec"));
        assert_eq!(settings.archived, ArchivePolicy::Remove);
        assert_eq!(settings.provider_name(), "none");
    }

    #[test]
    fn missing_odoo_settings_listed_together() {
        let settings = Settings::resolve(&layers(&[], &[("ODOO_DB", "crm")], &[])).unwrap();
        let err = settings.odoo().unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required settings: ODOO_URL, ODOO_USERNAME, ODOO_PASSWORD"
        );
    }

    #[test]
    fn empty_value_counts_as_unset() {
        let settings = Settings::resolve(&layers(&[], &[("COLLECTION", "")], &[])).unwrap();
        assert_eq!(settings.collection, DEFAULT_COLLECTION);
    }

    #[test]
    fn empty_value_lets_next_layer_apply() {
        let cases: [(&str, &str, &str, &str, Source); 3] = [
            ("", "from_env", "from_dotenv", "from_env", Source::Env),
            ("", " ", "from_dotenv", "from_dotenv", Source::DotEnv),
            ("from_flag", "", "", "from_flag", Source::Flag),
        ];
        for (flag, env, dotenv, expected, source) in cases {
            let settings = Settings::resolve(&layers(
                &[("COLLECTION", flag)],
                &[("COLLECTION", env)],
                &[("COLLECTION", dotenv)],
            ))
            .unwrap();
            assert_eq!(settings.collection, expected, "{flag:?} {env:?} {dotenv:?}");
            assert_eq!(
                settings.source("COLLECTION"),
                source,
                "{flag:?} {env:?} {dotenv:?}"
            );
        }
    }

    #[test]
    fn voyage_key_selects_voyage() {
        let settings =
            Settings::resolve(&layers(&[], &[], &[("VOYAGE_API_KEY", "pa-secret")])).unwrap();
        assert_eq!(settings.provider_name(), "voyage");
        let EmbeddingSettings::Voyage(voyage) = &settings.embeddings else {
            panic!("expected voyage settings");
        };
        assert_eq!(voyage.model, DEFAULT_VOYAGE_MODEL);
        assert_eq!(voyage.dimension, DEFAULT_VOYAGE_DIMENSION);
    }

    #[test]
    fn voyage_without_key_is_missing() {
        let err =
            Settings::resolve(&layers(&[], &[("EMBEDDINGS_PROVIDER", "voyage")], &[])).unwrap_err();
        assert_eq!(err.to_string(), "missing required settings: VOYAGE_API_KEY");
    }

    #[cfg(not(feature = "local"))]
    #[test]
    fn local_provider_without_feature_says_how_to_build() {
        let err =
            Settings::resolve(&layers(&[], &[("EMBEDDINGS_PROVIDER", "local")], &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value for EMBEDDINGS_PROVIDER: 'local' needs a crm-vec built with the \
             `local` feature: cargo install --locked --path . --features local"
        );
    }

    #[cfg(feature = "local")]
    #[test]
    fn local_provider_needs_model_dir() {
        let err =
            Settings::resolve(&layers(&[], &[("EMBEDDINGS_PROVIDER", "local")], &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required settings: EMBEDDINGS_MODEL_DIR"
        );
    }

    #[cfg(feature = "local")]
    #[test]
    fn local_provider_takes_model_dir() {
        let env = [
            ("EMBEDDINGS_PROVIDER", "local"),
            ("EMBEDDINGS_MODEL_DIR", "/models/minilm"),
        ];
        let settings = Settings::resolve(&layers(&[], &env, &[])).unwrap();
        assert_eq!(settings.provider_name(), "local");
        let EmbeddingSettings::Local { model_dir } = &settings.embeddings else {
            panic!("expected local settings");
        };
        assert_eq!(model_dir, &PathBuf::from("/models/minilm"));
    }

    #[test]
    fn invalid_values_are_rejected() {
        let cases = [
            ("CRM_VEC_ARCHIVED", "sometimes"),
            ("EMBEDDINGS_PROVIDER", "cohere"),
            ("COLLECTION", "../etc"),
            ("CRM_VEC_LOCK_TIMEOUT", "-1"),
            ("CRM_VEC_LOCK_TIMEOUT", "5 days"),
            ("VOYAGE_DIMENSION", "0"),
        ];
        for (name, value) in cases {
            let mut env = vec![(name, value)];
            if name == "VOYAGE_DIMENSION" {
                env.push(("VOYAGE_API_KEY", "k"));
            }
            let result = Settings::resolve(&layers(&[], &env, &[]));
            assert!(result.is_err(), "{name}={value} was accepted");
        }
    }

    #[test]
    fn embeddings_timeout_sets_request_timeout() {
        let env = [("VOYAGE_API_KEY", "k"), ("EMBEDDINGS_TIMEOUT", "2.5")];
        let settings = Settings::resolve(&layers(&[], &env, &[])).unwrap();
        let EmbeddingSettings::Voyage(voyage) = &settings.embeddings else {
            panic!("expected Voyage settings");
        };
        assert_eq!(voyage.retry.request_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn embeddings_timeout_defaults_to_120_seconds() {
        let env = [("VOYAGE_API_KEY", "k")];
        let settings = Settings::resolve(&layers(&[], &env, &[])).unwrap();
        let EmbeddingSettings::Voyage(voyage) = &settings.embeddings else {
            panic!("expected Voyage settings");
        };
        assert_eq!(voyage.retry.request_timeout, Duration::from_secs(120));
    }

    #[test]
    fn embeddings_timeout_rejects_bad_values() {
        for value in ["0", "-3", "soon", "1e9", "NaN"] {
            let env = [("EMBEDDINGS_TIMEOUT", value)];
            let err = Settings::resolve(&layers(&[], &env, &[])).unwrap_err();
            let message = err.to_string();
            assert!(message.contains("EMBEDDINGS_TIMEOUT"), "{value}: {message}");
            assert!(message.contains(value), "{value}: {message}");
        }
    }

    #[test]
    fn odoo_url_must_be_http() {
        let env = [
            ("ODOO_URL", "odoo.example.com"),
            ("ODOO_DB", "crm"),
            ("ODOO_USERNAME", "admin"),
            ("ODOO_PASSWORD", "pw"),
        ];
        let settings = Settings::resolve(&layers(&[], &env, &[])).unwrap();
        let err = settings.odoo().unwrap_err();
        assert!(err
            .to_string()
            .contains("is not an http:// or https:// URL"));
    }

    fn odoo_url_error(url: &str) -> String {
        let env = [
            ("ODOO_URL", url),
            ("ODOO_DB", "crm"),
            ("ODOO_USERNAME", "admin"),
            ("ODOO_PASSWORD", "pw"),
        ];
        let settings = Settings::resolve(&layers(&[], &env, &[])).unwrap();
        settings.odoo().unwrap_err().to_string()
    }

    #[test]
    fn odoo_url_with_space_is_named_so() {
        let message = odoo_url_error("http://bob:URL PASS99@127.0.0.1");
        assert!(message.contains("contains whitespace"), "{message}");
        assert!(!message.contains("PASS99"), "{message}");
    }

    #[test]
    fn odoo_url_long_password_stays_masked() {
        let password = "Secret".repeat(12);
        let message = odoo_url_error(&format!("http://bob:{password}@odoo example.com"));
        assert!(message.contains("contains whitespace"), "{message}");
        assert!(!message.contains("SecretSecret"), "{message}");
    }

    #[test]
    fn odoo_url_unclosed_ipv6_is_invalid() {
        let message = odoo_url_error("http://bob:pw@[::1");
        assert!(message.contains("is not a valid URL: "), "{message}");
        assert!(!message.contains("bob:pw"), "{message}");
    }

    #[test]
    fn report_masks_secrets() {
        let env = [("ODOO_PASSWORD", "hunter2"), ("VOYAGE_API_KEY", "pa-key")];
        let settings = Settings::resolve(&layers(&[], &env, &[])).unwrap();
        let report = format!("{:?}", settings.report());
        assert!(!report.contains("hunter2"));
        assert!(!report.contains("pa-key"));
    }

    #[test]
    fn invalid_flag_value_names_flag() {
        let err =
            Settings::resolve(&layers(&[("CRM_VEC_LOCK_TIMEOUT", "soon")], &[], &[])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid value for --lock-timeout: 'soon'"),
            "{err}"
        );
    }

    #[test]
    fn invalid_env_value_names_variable() {
        let err = Settings::resolve(&layers(&[], &[("CRM_VEC_ARCHIVED", "kep")], &[])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid value for CRM_VEC_ARCHIVED: 'kep'"),
            "{err}"
        );
    }

    #[test]
    fn invalid_odoo_flag_names_flag() {
        let env = [
            ("ODOO_URL", "http://odoo.example.com"),
            ("ODOO_DB", "crm"),
            ("ODOO_USERNAME", "admin"),
            ("ODOO_PASSWORD", "pw"),
        ];
        let settings =
            Settings::resolve(&layers(&[("ODOO_PROTOCOL", "xmlrpc")], &env, &[])).unwrap();
        let err = settings.odoo().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid value for --odoo-protocol:"),
            "{err}"
        );
    }

    #[test]
    fn lock_timeout_takes_units() {
        let cases = [
            ("5s", Duration::from_secs(5)),
            ("2m", Duration::from_secs(120)),
            ("90", Duration::from_secs(90)),
            ("1.5", Duration::from_millis(1500)),
        ];
        for (text, expected) in cases {
            let settings =
                Settings::resolve(&layers(&[], &[("CRM_VEC_LOCK_TIMEOUT", text)], &[])).unwrap();
            assert_eq!(settings.lock_timeout, expected, "{text}");
        }
    }

    #[test]
    fn lock_timeout_rejects_over_a_day() {
        let result = Settings::resolve(&layers(&[], &[("CRM_VEC_LOCK_TIMEOUT", "25h")], &[]));
        assert!(result.is_err());
    }

    #[test]
    fn report_shows_serve_defaults() {
        let settings = Settings::resolve(&layers(&[], &[], &[])).unwrap();
        let report = settings.report();
        let row = |name: &str| report.iter().find(|row| row.name == name).unwrap().clone();
        assert_eq!(row("HOST").display.as_deref(), Some("127.0.0.1"));
        assert_eq!(row("PORT").display.as_deref(), Some("3000"));
        assert_eq!(row("PORT").source, Source::Default);
    }

    #[test]
    fn report_names_voyage_key_as_provider_origin() {
        let settings =
            Settings::resolve(&layers(&[], &[("VOYAGE_API_KEY", "pa-key")], &[])).unwrap();
        let report = settings.report();
        let provider = report
            .iter()
            .find(|row| row.name == "EMBEDDINGS_PROVIDER")
            .unwrap();
        assert_eq!(provider.display.as_deref(), Some("voyage"));
        assert_eq!(provider.derived_from, Some("VOYAGE_API_KEY"));
    }

    #[test]
    fn report_explicit_provider_is_not_derived() {
        let env = [
            ("VOYAGE_API_KEY", "pa-key"),
            ("EMBEDDINGS_PROVIDER", "voyage"),
        ];
        let settings = Settings::resolve(&layers(&[], &env, &[])).unwrap();
        let report = settings.report();
        let provider = report
            .iter()
            .find(|row| row.name == "EMBEDDINGS_PROVIDER")
            .unwrap();
        assert_eq!(provider.derived_from, None);
    }

    /// Every fixed default that `config show` prints is the one the help line states.
    #[test]
    fn variable_help_states_defaults() {
        let settings = Settings::resolve(&layers(&[], &[], &[])).unwrap();
        for variable in VARIABLES {
            if ["CRM_VEC_DATA_DIR", "EMBEDDINGS_PROVIDER"].contains(&variable.name) {
                continue;
            }
            if let Some(default) = settings.default_display(variable.name) {
                assert!(
                    variable.help.contains(&format!("[default: {default}]")),
                    "{}: {}",
                    variable.name,
                    variable.help
                );
            }
        }
    }

    #[test]
    fn dotenv_file_missing_is_empty_and_malformed_is_error() {
        let dir = std::env::temp_dir().join(format!("crm-vec-dotenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(read_dotenv(&dir.join("absent.env")).unwrap().is_empty());
        let path = dir.join("bad.env");
        std::fs::write(&path, "ODOO_URL=http://x\nthis is not a line\n").unwrap();
        assert!(read_dotenv(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Returns the message `read_dotenv` gives for a file with this content.
    fn dotenv_error(name: &str, content: &[u8]) -> String {
        let dir = std::env::temp_dir().join(format!("crm-vec-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(&path, content).unwrap();
        let message = match read_dotenv(&path) {
            Err(SettingsError::DotEnv { message, .. }) => message,
            other => panic!("expected a .env error, got {other:?}"),
        };
        std::fs::remove_dir_all(&dir).unwrap();
        message
    }

    #[test]
    fn dotenv_error_hides_unclosed_quote_value() {
        let message = dotenv_error(
            "unclosed",
            b"ODOO_DB=crm\nODOO_PASSWORD=\"Hunter2-REAL-PASS\nODOO_USERNAME=admin\n",
        );
        assert!(!message.contains("Hunter2"), "{message}");
        assert!(message.contains("line 2 (ODOO_PASSWORD)"), "{message}");
    }

    #[test]
    fn dotenv_error_hides_bad_escape_value() {
        let message = dotenv_error("escape", b"WEBHOOK_SECRET=abc\\q\"tail\n");
        assert!(!message.contains("abc"), "{message}");
        assert!(message.contains("line 1 (WEBHOOK_SECRET)"), "{message}");
    }

    #[test]
    fn dotenv_error_names_non_utf8_line() {
        let message = dotenv_error("utf8", b"ODOO_DB=crm\nODOO_URL=http://x\nCOLLECTION=\xff\n");
        assert_eq!(message, "line 3 is not valid UTF-8");
    }
}
