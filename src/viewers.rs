//! Remembered viewers: the Start screen's tiles, stored only after the viewer opted in
//! ("Husk mig på dette TV").
//!
//! What is stored, and nothing else: the display name, the identifier used to sign in (the
//! MitID uuid on Signaturgruppen, the user ID on a generic OP) and the last-used time in unix
//! seconds. There is no field for tokens and no CPR variant in [`ViewerKey`], so neither can be
//! written; as a second line of defence a name or user ID that contains a CPR-shaped number is
//! refused ([`StoreError::LooksLikeCpr`]).
//!
//! File: `viewers.json` in `$STATE_DIRECTORY` (systemd `StateDirectory=`) or else in the XDG
//! data dir ([`default_path`]), mode 0600, directory created 0700, replaced atomically (temp
//! file in the same directory, fsync, rename, fsync of the directory). Format:
//! `{"version":1,"viewers":[{"name":"…","key":{"kind":"uuid"|"user_id","id":"…"},"last_used":…}]}`
//! with the most recently used viewer first.
//!
//! API:
//! - [`ViewerStore::open`]`(path, max) -> (ViewerStore, Option<StoreProblem>)` — never fails: a
//!   corrupt, unreadable or unknown-version file is moved aside to `viewers.json.corrupt-<unix
//!   seconds>`, reported as a [`StoreProblem`] for the UI, and the store starts empty.
//! - [`ViewerStore::list`]`() -> &[Viewer]` — most recently used first, at most `max`.
//! - [`ViewerStore::remember`]`(name, key, now) -> Result<(), StoreError>` — upsert by key,
//!   moves the viewer to the front, evicts the least recently used beyond `max` (0 = remember
//!   nobody).
//! - [`ViewerStore::touch`]`(&key, now)`, [`ViewerStore::forget`]`(&key)` `-> Result<bool, _>`
//!   (`false`: no such viewer, nothing written), [`ViewerStore::forget_all`]`()`.
//!
//! Every change is written before it becomes visible in memory, so `list()` never shows a
//! viewer that would be gone after a restart.

use std::ffi::OsStr;
use std::fs::{self, File, Permissions};
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "viewers.json";
pub const FORMAT_VERSION: u64 = 1;
/// A handful of viewers is a few hundred bytes; anything far larger is not ours.
const MAX_FILE_BYTES: u64 = 256 * 1024;
const MAX_NAME_CHARS: usize = 64;
const MAX_USER_ID_CHARS: usize = 128;

/// How the viewer is asked for at sign-in. Deliberately no CPR variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    content = "id",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum ViewerKey {
    /// MitID uuid (Signaturgruppen), lower-case hyphenated.
    Uuid(String),
    /// User ID on a generic OP.
    UserId(String),
}

impl ViewerKey {
    pub fn id(&self) -> &str {
        match self {
            ViewerKey::Uuid(s) | ViewerKey::UserId(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Viewer {
    pub name: String,
    pub key: ViewerKey,
    /// Unix seconds.
    pub last_used: u64,
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u64,
    viewers: &'a [Viewer],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    #[allow(dead_code)] // checked through `Header` first
    version: u64,
    viewers: Vec<Viewer>,
}

/// Read before the full parse so that a future format is reported as such, not as garbage.
#[derive(Deserialize)]
struct Header {
    version: u64,
}

/// Why the stored viewers could not be used. Reported once, from [`ViewerStore::open`].
#[derive(Debug, thiserror::Error)]
#[error("remembered viewers in {} could not be used ({cause}); {}", .path.display(), moved_note(.moved_to.as_deref()))]
pub struct StoreProblem {
    pub path: PathBuf,
    /// Where the old file now is; `None` if it could not be moved (the next write replaces it).
    pub moved_to: Option<PathBuf>,
    pub cause: ProblemCause,
}

fn moved_note(moved_to: Option<&Path>) -> String {
    match moved_to {
        Some(p) => format!("kept as {}", p.display()),
        None => "it could not be moved aside".to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProblemCause {
    #[error("cannot read the file: {0}")]
    Unreadable(io::Error),
    #[error("the file is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    #[error("not a valid store: {0}")]
    Corrupt(serde_json::Error),
    #[error("unknown format version {0}")]
    UnknownVersion(u64),
    #[error("invalid entry: {0}")]
    InvalidEntry(StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a viewer's name has 1–{MAX_NAME_CHARS} characters and no control characters")]
    InvalidName,
    #[error("not a MitID uuid (8-4-4-4-12 hex digits)")]
    InvalidUuid,
    #[error("a user ID has 1–{MAX_USER_ID_CHARS} characters and no spaces or control characters")]
    InvalidUserId,
    #[error("refusing to store something that looks like a CPR number")]
    LooksLikeCpr,
    #[error("cannot write {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot encode the store: {0}")]
    Encode(serde_json::Error),
}

/// `$STATE_DIRECTORY/viewers.json` when set, else `<XDG data dir>/mitid-flex-tv/viewers.json`.
/// `None` when neither exists (no home directory).
pub fn default_path() -> Option<PathBuf> {
    default_path_with(std::env::var_os("STATE_DIRECTORY").as_deref())
}

/// [`default_path`] with `$STATE_DIRECTORY` passed in (tests cannot set the environment
/// safely). systemd joins several `StateDirectory=` entries with `:`; the first one is ours.
/// A relative or empty value is ignored: systemd always passes absolute paths.
pub fn default_path_with(state_directory: Option<&OsStr>) -> Option<PathBuf> {
    let from_systemd = state_directory
        .and_then(|s| s.to_str())
        .and_then(|s| s.split(':').next())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    match from_systemd {
        Some(dir) => Some(dir.join(FILE_NAME)),
        None => crate::fsutil::project_dirs().map(|d| d.data_dir().join(FILE_NAME)),
    }
}

pub use crate::fsutil::unix_now;

#[derive(Debug)]
pub struct ViewerStore {
    path: PathBuf,
    max: usize,
    viewers: Vec<Viewer>,
}

impl ViewerStore {
    /// Loads the store at `path` (a missing file is an empty store, not a problem). Never
    /// fails; see the module docs for what happens to a file that cannot be used. If the file
    /// holds more than `max` viewers (the maximum was lowered), the least recently used are
    /// dropped from memory now and from the file at the next write.
    pub fn open(path: impl Into<PathBuf>, max: usize) -> (ViewerStore, Option<StoreProblem>) {
        let path = path.into();
        let (mut viewers, problem) = match load(&path) {
            Ok(v) => (v, None),
            Err(cause) => {
                let moved_to = match move_aside(&path, unix_now()) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot move the viewer store aside");
                        None
                    }
                };
                let problem = StoreProblem {
                    path: path.clone(),
                    moved_to,
                    cause,
                };
                tracing::warn!(%problem, "starting with no remembered viewers");
                (Vec::new(), Some(problem))
            }
        };
        viewers.truncate(max);
        (ViewerStore { path, max, viewers }, problem)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Most recently used first.
    pub fn list(&self) -> &[Viewer] {
        &self.viewers
    }

    /// Adds the viewer or updates its name, and makes it the most recently used.
    pub fn remember(&mut self, name: &str, key: ViewerKey, now: u64) -> Result<(), StoreError> {
        let name = validate_name(name)?;
        let key = validate_key(key)?;
        let mut next = self.viewers.clone();
        next.retain(|v| v.key != key);
        next.insert(
            0,
            Viewer {
                name,
                key,
                last_used: now,
            },
        );
        next.truncate(self.max);
        self.commit(next)
    }

    /// Marks a remembered viewer as just used (after a sign-in from its tile).
    pub fn touch(&mut self, key: &ViewerKey, now: u64) -> Result<bool, StoreError> {
        let key = normalized(key);
        let Some(i) = self.viewers.iter().position(|v| v.key == key) else {
            return Ok(false);
        };
        let mut next = self.viewers.clone();
        let mut v = next.remove(i);
        v.last_used = now;
        next.insert(0, v);
        self.commit(next).map(|()| true)
    }

    pub fn forget(&mut self, key: &ViewerKey) -> Result<bool, StoreError> {
        let key = normalized(key);
        if !self.viewers.iter().any(|v| v.key == key) {
            return Ok(false);
        }
        let next = self
            .viewers
            .iter()
            .filter(|v| v.key != key)
            .cloned()
            .collect();
        self.commit(next).map(|()| true)
    }

    /// "Glem alle": writes an empty store (rather than deleting the file, so the file's
    /// existence does not hint that someone was remembered).
    pub fn forget_all(&mut self) -> Result<(), StoreError> {
        self.commit(Vec::new())
    }

    fn commit(&mut self, next: Vec<Viewer>) -> Result<(), StoreError> {
        write_atomically(&self.path, &next)?;
        self.viewers = next;
        Ok(())
    }
}

fn load(path: &Path) -> Result<Vec<Viewer>, ProblemCause> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ProblemCause::Unreadable(e)),
    };
    tighten_permissions(path, &file);
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ProblemCause::Unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ProblemCause::TooLarge);
    }
    let header: Header = serde_json::from_slice(&bytes).map_err(ProblemCause::Corrupt)?;
    if header.version != FORMAT_VERSION {
        return Err(ProblemCause::UnknownVersion(header.version));
    }
    let file: FileIn = serde_json::from_slice(&bytes).map_err(ProblemCause::Corrupt)?;
    let mut viewers: Vec<Viewer> = Vec::with_capacity(file.viewers.len());
    for v in file.viewers {
        let v = Viewer {
            name: validate_name(&v.name).map_err(ProblemCause::InvalidEntry)?,
            key: validate_key(v.key).map_err(ProblemCause::InvalidEntry)?,
            last_used: v.last_used,
        };
        // A duplicate key (hand-edited file) keeps its most recent entry.
        match viewers.iter_mut().find(|o| o.key == v.key) {
            Some(o) if o.last_used < v.last_used => *o = v,
            Some(_) => {}
            None => viewers.push(v),
        }
    }
    // Stable: equal times keep the file's order, which is the order we wrote.
    viewers.sort_by_key(|v| std::cmp::Reverse(v.last_used));
    Ok(viewers)
}

/// A copied or restored file may have come back world-readable; fix it rather than keep
/// names and uuids readable by other users until the next write.
fn tighten_permissions(path: &Path, file: &File) {
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.permissions().mode() & 0o077 != 0
        && let Err(e) = file.set_permissions(Permissions::from_mode(0o600))
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot restrict the viewer store to 0600");
    }
}

/// Renames `path` to `<path>.corrupt-<now>` (with `-1`, `-2`, … if that exists) so a bad file
/// is kept for inspection and never overwritten.
fn move_aside(path: &Path, now: u64) -> io::Result<PathBuf> {
    for n in 0..100u32 {
        let mut target = path.as_os_str().to_owned();
        target.push(format!(".corrupt-{now}"));
        if n > 0 {
            target.push(format!("-{n}"));
        }
        let target = PathBuf::from(target);
        match fs::symlink_metadata(&target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::rename(path, &target)?;
                return Ok(target);
            }
            _ => continue,
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many moved-aside viewer stores",
    ))
}

fn write_atomically(path: &Path, viewers: &[Viewer]) -> Result<(), StoreError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::fsutil::create_private_dir(dir).map_err(io_err(dir))?;
    }
    let mut json = serde_json::to_vec_pretty(&FileOut {
        version: FORMAT_VERSION,
        viewers,
    })
    .map_err(StoreError::Encode)?;
    json.push(b'\n');
    crate::fsutil::write_private_atomically(path, &json).map_err(io_err(path))
}

fn validate_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(StoreError::InvalidName);
    }
    if crate::cpr::contains(name) {
        return Err(StoreError::LooksLikeCpr);
    }
    Ok(name.to_string())
}

fn validate_key(key: ViewerKey) -> Result<ViewerKey, StoreError> {
    match key {
        ViewerKey::Uuid(s) => uuid::Uuid::parse_str(s.trim())
            .map(|u| ViewerKey::Uuid(u.hyphenated().to_string()))
            .map_err(|_| StoreError::InvalidUuid),
        ViewerKey::UserId(s) => {
            // First, so that a CPR number typed as a user ID is named as such.
            if crate::cpr::contains(&s) {
                return Err(StoreError::LooksLikeCpr);
            }
            let len = s.chars().count();
            if len == 0
                || len > MAX_USER_ID_CHARS
                || s.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(StoreError::InvalidUserId);
            }
            Ok(ViewerKey::UserId(s))
        }
    }
}

/// The form a stored key has, for lookups; an invalid key matches nothing.
fn normalized(key: &ViewerKey) -> ViewerKey {
    validate_key(key.clone()).unwrap_or_else(|_| key.clone())
}
