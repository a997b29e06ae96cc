//! The desktop window without dead-key composition.
//!
//! On X11 and Wayland, winit reads the locale's compose table through xkbcommon, and Xlib's
//! input method reads it again: in a UTF-8 locale that is a file of about 6,000 sequences,
//! parsed twice on the way to the first frame. Measured with `benches/ui-bench.sh`'s
//! first-frame probe, A/B in one run: about 10 ms of a 50 ms budget. The app takes nothing
//! that needs composing: identifiers are letters (æ, ø and å are keys of their own on a
//! Danish keyboard), digits and `-._@`, and the remote has no dead keys.
//!
//! So, unless the user set `XCOMPOSEFILE` themself, it points at a table with no sequences,
//! kept in the user's cache directory. The linuxkms backend (the kiosk) reads no compose
//! table, so only the desktop build does this.

use std::path::PathBuf;

/// A comment only: both parsers accept it and find nothing to compose. (An empty file is
/// refused by xkbcommon, which maps the file and cannot map zero bytes.)
const NO_SEQUENCES: &str = "# mitid-flex-tv: no compose sequences (see src/ui/compose.rs)\n";

/// Call first in `main`, before any thread exists: it sets an environment variable.
pub fn skip_compose_table() {
    if std::env::var_os("XCOMPOSEFILE").is_some() {
        return;
    }
    let Some(path) = table_path() else {
        return;
    };
    if !path.is_file() {
        let written = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| std::fs::write(&path, NO_SEQUENCES));
        if written.is_err() {
            // Composition stays on; the app only starts a little slower.
            return;
        }
    }
    // SAFETY: `main` calls this before it starts any thread (the tokio runtime, Slint's
    // event loop and the logging all come later), so nothing reads the environment at the
    // same time.
    unsafe {
        std::env::set_var("XCOMPOSEFILE", &path);
    }
}

fn table_path() -> Option<PathBuf> {
    let dirs = crate::fsutil::project_dirs()?;
    Some(dirs.cache_dir().join("no-compose-sequences"))
}
