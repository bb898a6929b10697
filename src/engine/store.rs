//! The journal on disk: atomic writes (temp file in the same directory, fsync, rename, fsync of
//! the directory) and an advisory lock held for a whole apply so that two applies never
//! interleave. The lock file names its holder (pid, host, start time) so a refused second run
//! can say who holds it.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::state::{JOURNAL_FORMAT_VERSION, Journal};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StoreError {
    #[error("cannot read the journal `{path}`: {source}")]
    #[diagnostic(code(dnssec_pilot::journal::read))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the journal `{path}` is not valid: {message}")]
    #[diagnostic(
        code(dnssec_pilot::journal::invalid),
        help(
            "restore it from a backup; never delete it while a zone is half-way: it holds the baselines and the instants gates count from"
        )
    )]
    Invalid { path: PathBuf, message: String },
    #[error(
        "the journal `{path}` has format version {found}; this dnssec-pilot reads version {JOURNAL_FORMAT_VERSION}"
    )]
    #[diagnostic(
        code(dnssec_pilot::journal::version),
        help("use the dnssec-pilot release that wrote it")
    )]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write the journal `{path}`: {source}")]
    #[diagnostic(code(dnssec_pilot::journal::write))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another dnssec-pilot holds the lock on `{path}`: {holder}")]
    #[diagnostic(
        code(dnssec_pilot::journal::locked),
        help(
            "wait for it to finish; if that process is gone, the lock is released with it (advisory locks die with their holder)"
        )
    )]
    Locked { path: PathBuf, holder: String },
}

/// Where the journal lives.
#[derive(Clone, Debug)]
pub struct JournalStore {
    path: PathBuf,
}

/// The held lock; released on drop.
#[derive(Debug)]
pub struct JournalLock {
    file: File,
}

impl Drop for JournalLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl JournalStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JournalStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    /// Takes the exclusive lock, or fails at once naming the holder.
    pub fn lock(&self) -> Result<JournalLock, StoreError> {
        let path = self.lock_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|source| StoreError::Write {
                path: path.clone(),
                source,
            })?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| StoreError::Write {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(_) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = if holder.trim().is_empty() {
                    "unknown process".to_string()
                } else {
                    holder.trim().to_string()
                };
                return Err(StoreError::Locked { path, holder });
            }
        }
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let who = format!(
            "pid {} on {host}, since {}",
            std::process::id(),
            jiff::Timestamp::now()
        );
        let _ = file.set_len(0);
        let _ = file.write_all(who.as_bytes());
        let _ = file.sync_all();
        Ok(JournalLock { file })
    }

    /// Loads the journal, or a new one (with a fresh lineage) when the file does not exist.
    pub fn load_or_new(&self) -> Result<Journal, StoreError> {
        match self.load()? {
            Some(j) => Ok(j),
            None => Ok(Journal::new(new_lineage())),
        }
    }

    /// Loads the journal; `None` when the file does not exist.
    pub fn load(&self) -> Result<Option<Journal>, StoreError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| StoreError::Invalid {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        let found = v
            .get("format_version")
            .and_then(|x| x.as_u64())
            .unwrap_or(0);
        if found != u64::from(JOURNAL_FORMAT_VERSION) {
            return Err(StoreError::Version {
                path: self.path.clone(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_value(v)
            .map(Some)
            .map_err(|e| StoreError::Invalid {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    /// Writes the journal atomically, bumping its serial.
    pub fn save(&self, journal: &mut Journal) -> Result<(), StoreError> {
        journal.serial += 1;
        let text = serde_json::to_string_pretty(journal).map_err(|e| StoreError::Invalid {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&self.path, text.as_bytes()).map_err(|source| StoreError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// Temp file beside the target, fsync, rename over it, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "journal".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A random lineage id (journal identity).
pub fn new_lineage() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    let a: u64 = rng.random();
    let b: u32 = rng.random();
    format!("{a:016x}-{b:08x}")
}

/// A random idempotency token (Route 53 `CallerReference`: up to 128 characters).
pub fn new_token(step_id: &str) -> String {
    use rand::Rng as _;
    let n: u64 = rand::rng().random();
    let short: String = step_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .rev()
        .take(24)
        .collect::<String>()
        .chars()
        .rev()
        .collect();
    format!("dp-{short}-{n:016x}")
}
