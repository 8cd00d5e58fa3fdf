//! Which store holds the ledger, from one setting (`--ledger` / `SHENGBO_LEDGER`):
//! `sqlite:PATH` (the embedded default, `<data dir>/ledger.sqlite`) or `postgres://…`.
//!
//! A PostgreSQL URL may carry its password, but need not: a missing user comes from `PGUSER`,
//! a missing password from `PGPASSWORD`, else from the password file `PGPASSFILE` names (the
//! `.pgpass` format, `host:port:database:user:password`, kept outside the project).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{Ledger, LedgerError, PgLedger, SqliteLedger};

/// Where the ledger lives.
#[derive(Debug, Clone)]
pub enum LedgerTarget {
    Sqlite(PathBuf),
    Postgres(Box<postgres::Config>),
}

/// A `--ledger` value that names no store.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("--ledger `{0}`: expected `sqlite:PATH` or `postgres://USER@HOST:PORT/DATABASE`")]
    Scheme(String),
    #[error("--ledger `sqlite:`: the path is empty")]
    EmptyPath,
    #[error("--ledger `{url}`: {source}")]
    Url {
        url: String,
        #[source]
        source: postgres::Error,
    },
    #[error("--ledger `{0}`: no user in the URL and PGUSER is not set")]
    NoUser(String),
    #[error("password file `{path}` (PGPASSFILE): {source}")]
    PassFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How long connecting may take before it fails (unless the URL says `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl LedgerTarget {
    /// Read a `--ledger` value; `env` gives the environment (`PGUSER`, `PGPASSWORD`,
    /// `PGPASSFILE`).
    pub fn parse(value: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, TargetError> {
        if let Some(path) = value.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(TargetError::EmptyPath);
            }
            return Ok(LedgerTarget::Sqlite(PathBuf::from(path)));
        }
        if !(value.starts_with("postgres://") || value.starts_with("postgresql://")) {
            return Err(TargetError::Scheme(redact(value)));
        }
        let mut config: postgres::Config = value.parse().map_err(|source| TargetError::Url {
            url: redact(value),
            source,
        })?;
        if config.get_user().is_none() {
            let user = env("PGUSER").ok_or_else(|| TargetError::NoUser(redact(value)))?;
            config.user(&user);
        }
        if config.get_dbname().is_none() {
            let user = config.get_user().unwrap_or_default().to_string();
            config.dbname(&user);
        }
        if config.get_password().is_none() {
            if let Some(pw) = env("PGPASSWORD") {
                config.password(pw);
            } else if let Some(file) = env("PGPASSFILE") {
                let path = PathBuf::from(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| TargetError::PassFile { path, source })?;
                if let Some(pw) = pgpass(&text, &config) {
                    config.password(pw);
                }
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        Ok(LedgerTarget::Postgres(Box::new(config)))
    }

    /// The SQLite file of a data directory (the default).
    pub fn default_for(ledger_file: &Path) -> LedgerTarget {
        LedgerTarget::Sqlite(ledger_file.to_path_buf())
    }

    /// The SQLite file, when the ledger is one.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        match self {
            LedgerTarget::Sqlite(p) => Some(p.clone()),
            LedgerTarget::Postgres(_) => None,
        }
    }

    /// How the store is named in messages (never with a password).
    pub fn describe(&self) -> String {
        match self {
            LedgerTarget::Sqlite(p) => format!("sqlite:{}", p.display()),
            LedgerTarget::Postgres(c) => format!("postgres://{}", super::pg::describe(c)),
        }
    }

    /// Open the ledger (creating and migrating it as needed). Blocking.
    pub fn open(&self) -> Result<Arc<dyn Ledger>, LedgerError> {
        Ok(match self {
            LedgerTarget::Sqlite(p) => Arc::new(SqliteLedger::open(p)?),
            LedgerTarget::Postgres(c) => Arc::new(PgLedger::open((**c).clone())?),
        })
    }
}

/// A URL with its password (if any) replaced by `***`.
fn redact(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_string();
    };
    let (auth, tail) = match rest.find('@') {
        Some(at) if !rest[..at].contains('/') => (&rest[..at], &rest[at..]),
        _ => return value.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{tail}"),
        None => value.to_string(),
    }
}

/// The password of the first `.pgpass` line matching the configuration (`*` matches any).
fn pgpass(text: &str, config: &postgres::Config) -> Option<String> {
    use postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let want = [
        host.as_str(),
        port.as_str(),
        config.get_dbname().unwrap_or_default(),
        config.get_user().unwrap_or_default(),
    ];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let fields: Vec<&str> = line.splitn(5, ':').collect();
            let [h, p, d, u, pw] = fields.as_slice() else {
                return None;
            };
            [h, p, d, u]
                .iter()
                .zip(want)
                .all(|(f, w)| **f == "*" || **f == w)
                .then(|| pw.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn sqlite_and_postgres_values_are_read() {
        let t = LedgerTarget::parse("sqlite:/var/lib/shengbo/l.sqlite", no_env).unwrap();
        assert!(
            matches!(t, LedgerTarget::Sqlite(ref p) if p == Path::new("/var/lib/shengbo/l.sqlite"))
        );
        let t = LedgerTarget::parse("postgres://shengbo@db.lan:6543/ledger", no_env).unwrap();
        assert_eq!(t.describe(), "postgres://shengbo@db.lan:6543/ledger");
    }

    #[test]
    fn bad_values_say_what_is_expected_and_hide_passwords() {
        let err = LedgerTarget::parse("mysql://a:secret@h/d", no_env).unwrap_err();
        assert!(err.to_string().contains("sqlite:PATH"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(matches!(
            LedgerTarget::parse("sqlite:", no_env),
            Err(TargetError::EmptyPath)
        ));
        let err = LedgerTarget::parse("postgres://u:secret@h:99999/d", no_env).unwrap_err();
        assert!(matches!(err, TargetError::Url { .. }), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        let err = LedgerTarget::parse("postgres://h/d", no_env).unwrap_err();
        assert!(err.to_string().contains("PGUSER"), "{err}");
    }

    #[test]
    fn credentials_come_from_the_environment_or_a_password_file() {
        let env = |k: &str| match k {
            "PGUSER" => Some("shengbo".to_string()),
            "PGPASSWORD" => Some("from-env".to_string()),
            _ => None,
        };
        let LedgerTarget::Postgres(c) = LedgerTarget::parse("postgres://h/d", env).unwrap() else {
            panic!("not postgres")
        };
        assert_eq!(c.get_user(), Some("shengbo"));
        assert_eq!(c.get_password(), Some(&b"from-env"[..]));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "# comment\nother:*:*:*:no\nh:5432:d:u:from-file\n").unwrap();
        let file_env = |k: &str| (k == "PGPASSFILE").then(|| file.display().to_string());
        let LedgerTarget::Postgres(c) = LedgerTarget::parse("postgres://u@h/d", file_env).unwrap()
        else {
            panic!("not postgres")
        };
        assert_eq!(c.get_password(), Some(&b"from-file"[..]));
        let gone = |k: &str| (k == "PGPASSFILE").then(|| "/nonexistent/pgpass".to_string());
        let err = LedgerTarget::parse("postgres://u@h/d", gone).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pgpass"), "{err}");
    }
}
