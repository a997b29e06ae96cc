//! Synthesisers run as child processes: espeak-ng (speaks to the default sound device, or
//! writes a WAV file with `-w`) and speech-dispatcher's `spd-say`.
//!
//! Text goes to espeak-ng on stdin, never as an argument, so no text can be read as an option;
//! spd-say has no stdin mode, so its text follows `--` (the end of getopt's options).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{Backend, Language, Playing, SpeechError};

/// Words per minute: espeak-ng's default is 175; a little slower is easier to follow from a
/// sofa, and a code's digits come out one by one.
const ESPEAK_WPM: &str = "150";

/// An executable `name` in `$PATH`, or `name` itself when it holds a `/` and is executable.
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| executable(p))
}

#[derive(Clone, Debug)]
pub struct EspeakNg {
    program: PathBuf,
}

impl EspeakNg {
    pub fn find() -> Option<Self> {
        find_program("espeak-ng").map(|program| Self { program })
    }

    fn command(&self, language: Language) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(["-v", language.code(), "-s", ESPEAK_WPM, "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    fn spawn(&self, mut cmd: Command, text: &str) -> Result<Child, SpeechError> {
        let program = self.program.display().to_string();
        let mut child = cmd.spawn().map_err(|source| SpeechError::Spawn {
            program: program.clone(),
            source,
        })?;
        // The text is at most a few hundred bytes (`clean` caps it): the pipe buffer takes it
        // whole, so this write does not wait for espeak-ng. Dropping stdin ends its input.
        if let Some(mut stdin) = child.stdin.take()
            && let Err(e) = stdin.write_all(text.as_bytes())
        {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SpeechError::Failed {
                program,
                detail: e.to_string(),
            });
        }
        Ok(child)
    }

    /// Writes the speech for `text` to a WAV file and waits for it (tests, diagnostics).
    pub fn record(&self, text: &str, language: Language, wav: &Path) -> Result<(), SpeechError> {
        let mut cmd = self.command(language);
        cmd.arg("-w").arg(wav);
        let status =
            self.spawn(cmd, &super::clean(text))?
                .wait()
                .map_err(|e| SpeechError::Failed {
                    program: self.program.display().to_string(),
                    detail: e.to_string(),
                })?;
        if status.success() {
            Ok(())
        } else {
            Err(SpeechError::Failed {
                program: self.program.display().to_string(),
                detail: status.to_string(),
            })
        }
    }
}

impl Backend for EspeakNg {
    fn name(&self) -> &'static str {
        "espeak-ng"
    }

    fn start(&self, text: &str, language: Language) -> Result<Box<dyn Playing>, SpeechError> {
        let child = self.spawn(self.command(language), text)?;
        Ok(Box::new(ChildPlaying {
            child,
            cancel: None,
        }))
    }
}

#[derive(Clone, Debug)]
pub struct SpdSay {
    program: PathBuf,
}

impl SpdSay {
    pub fn find() -> Option<Self> {
        find_program("spd-say").map(|program| Self { program })
    }
}

impl Backend for SpdSay {
    fn name(&self) -> &'static str {
        "spd-say"
    }

    fn start(&self, text: &str, language: Language) -> Result<Box<dyn Playing>, SpeechError> {
        // -w: return only when spoken, so the worker knows when it is done.
        let child = Command::new(&self.program)
            .args(["-w", "-l", language.code(), "--", text])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| SpeechError::Spawn {
                program: self.program.display().to_string(),
                source,
            })?;
        // Killing spd-say leaves the message at the speech-dispatcher server: `-C` cancels it.
        let mut cancel = Command::new(&self.program);
        cancel
            .arg("-C")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Ok(Box::new(ChildPlaying {
            child,
            cancel: Some(cancel),
        }))
    }
}

struct ChildPlaying {
    child: Child,
    /// Run after killing the child, when the speech lives on elsewhere.
    cancel: Option<Command>,
}

impl Playing for ChildPlaying {
    fn is_done(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(mut cancel) = self.cancel.take() {
            let _ = cancel.status();
        }
    }
}

impl Drop for ChildPlaying {
    fn drop(&mut self) {
        // Never leave a zombie or a voice talking over the next screen.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}
