//! The App's credentials in the data directory: what `ws-fix setup` writes and `ws-fix serve`
//! reads when its flags do not give them. `app.json` holds the App's ID, slug, page, owner,
//! client ID and secret, webhook secret and the GitHub it lives on; `private-key.pem` its
//! private key (kept apart so that `serve` reads it as a key file, again whenever it changes).
//! Both are created mode 0600, never overwritten, and written whole or not at all.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::server::Secret;

/// `app.json` in the data directory.
pub const APP_FILE: &str = "app.json";
/// `private-key.pem` in the data directory.
pub const KEY_FILE: &str = "private-key.pem";

/// `app.json`. `Debug` prints the secrets as `[redacted]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppCredentials {
    pub id: u64,
    pub slug: String,
    pub name: String,
    /// The App's page on GitHub (`{html_url}/installations/new` installs it).
    pub html_url: String,
    /// The account the App belongs to.
    pub owner: Option<String>,
    pub client_id: String,
    #[serde(with = "secret")]
    pub client_secret: Secret,
    /// `None` when GitHub made the App without a webhook secret.
    #[serde(with = "optional_secret")]
    pub webhook_secret: Option<Secret>,
    /// GitHub's web address and REST API the App was registered with.
    pub github_url: String,
    pub github_api_url: String,
    /// When GitHub created the App (GitHub's RFC 3339 time).
    pub created_at: String,
}

/// What the data directory holds.
#[derive(Debug, Default)]
pub struct Stored {
    pub app: Option<AppCredentials>,
    /// `private-key.pem`, when present.
    pub key_file: Option<PathBuf>,
}

/// Where [`write`] put the credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub app_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error(
        "{0} already exists: the data directory holds an App's credentials (move them away to register another App)"
    )]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The message names the kind of error and its place, never the text (it holds secrets).
    #[error("{path} is not an App's credentials file: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CredentialsError + '_ {
    move |source| CredentialsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The first credentials file present in `dir` (`app.json`, then `private-key.pem`).
pub fn existing(dir: &Path) -> Option<PathBuf> {
    [APP_FILE, KEY_FILE]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.symlink_metadata().is_ok())
}

/// Reads what `dir` holds (nothing is an empty [`Stored`], not an error).
pub fn read(dir: &Path) -> Result<Stored, CredentialsError> {
    let app_file = dir.join(APP_FILE);
    let app = match std::fs::read(&app_file) {
        Ok(bytes) => Some(
            serde_json::from_slice::<AppCredentials>(&bytes).map_err(|e| {
                CredentialsError::Invalid {
                    path: app_file.clone(),
                    message: format!(
                        "{:?} error at line {} column {}",
                        e.classify(),
                        e.line(),
                        e.column()
                    ),
                }
            })?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&app_file)(e)),
    };
    let key_file = dir.join(KEY_FILE);
    let key_file = key_file.exists().then_some(key_file);
    Ok(Stored { app, key_file })
}

/// Creates `dir` (mode 0700 for what it creates) and checks that a file can be created in it,
/// so that a registration never ends with credentials that cannot be kept.
pub fn prepare(dir: &Path) -> Result<(), CredentialsError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let probe = dir.join(format!(".ws-fix-setup-{}.probe", std::process::id()));
    create_private(&probe).map_err(io(&probe))?;
    std::fs::remove_file(&probe).map_err(io(&probe))
}

/// Writes `private-key.pem` and `app.json` into `dir`, mode 0600. Each is written to a
/// temporary file first and then linked to its name, which fails rather than overwrite.
pub fn write(dir: &Path, app: &AppCredentials, pem: &Secret) -> Result<Written, CredentialsError> {
    if let Some(path) = existing(dir) {
        return Err(CredentialsError::Exists(path));
    }
    let mut json = serde_json::to_vec_pretty(app).expect("credentials serialise");
    json.push(b'\n');
    let key_file = dir.join(KEY_FILE);
    let app_file = dir.join(APP_FILE);
    place(&key_file, pem.expose().as_bytes())?;
    if let Err(e) = place(&app_file, &json) {
        // Not half: without app.json the key is of no use, and it would block a new attempt.
        let _ = std::fs::remove_file(&key_file);
        return Err(e);
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Written { app_file, key_file })
}

/// Writes `bytes` to a new file at `target` (mode 0600), through a temporary file beside it.
fn place(target: &Path, bytes: &[u8]) -> Result<(), CredentialsError> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let temp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = create_private(&temp).map_err(io(&temp))?;
        file.write_all(bytes).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        std::fs::hard_link(&temp, target).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                CredentialsError::Exists(target.to_path_buf())
            } else {
                io(target)(e)
            }
        })
    })();
    let _ = std::fs::remove_file(&temp);
    result
}

fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

mod secret {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Secret, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

mod optional_secret {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Option<Secret>, out: S) -> Result<S::Ok, S::Error> {
        match s {
            Some(s) => out.serialize_some(s.expose()),
            None => out.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Secret::new))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    pub(crate) fn sample() -> AppCredentials {
        AppCredentials {
            id: 77,
            slug: "ws-fix-acme".into(),
            name: "ws-fix acme".into(),
            html_url: "https://github.com/apps/ws-fix-acme".into(),
            owner: Some("acme".into()),
            client_id: "Iv1.abc".into(),
            client_secret: Secret::new("client-secret-value"),
            webhook_secret: Some(Secret::new("webhook-secret-value")),
            github_url: "https://github.com".into(),
            github_api_url: "https://api.github.com".into(),
            created_at: "2026-11-26T12:00:00Z".into(),
        }
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn written_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        prepare(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert!(read(&data).unwrap().app.is_none());
        assert_eq!(existing(&data), None);
        let written = write(&data, &sample(), &Secret::new("PEM TEXT")).unwrap();
        assert_eq!(mode(&written.app_file), 0o600);
        assert_eq!(mode(&written.key_file), 0o600);
        assert_eq!(
            std::fs::read_to_string(&written.key_file).unwrap(),
            "PEM TEXT"
        );
        let stored = read(&data).unwrap();
        let app = stored.app.unwrap();
        assert_eq!(app.id, 77);
        assert_eq!(app.webhook_secret.unwrap().expose(), "webhook-secret-value");
        assert_eq!(stored.key_file.as_deref(), Some(written.key_file.as_path()));
        // Only the two files: the temporary ones are gone.
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 2);
        assert!(!format!("{:?}", sample()).contains("secret-value"));
    }

    #[test]
    fn never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "older key").unwrap();
        let err = write(dir.path(), &sample(), &Secret::new("new")).unwrap_err();
        assert!(matches!(err, CredentialsError::Exists(_)), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap(),
            "older key"
        );
        assert!(!dir.path().join(APP_FILE).exists());
    }

    #[test]
    fn a_broken_file_is_named_without_its_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(APP_FILE),
            r#"{"id": "hunter2-secret", "slug": 1}"#,
        )
        .unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("app.json") && err.contains("line 1"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
