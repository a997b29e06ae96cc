//! The queue with a scripted backend: what is spoken, what is dropped, what is stopped.

use std::sync::mpsc;
use std::time::Duration;

use super::*;

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Started(String),
    Stopped(String),
    Finished(String),
}

/// Each utterance "speaks" until the test releases it through `finish`.
struct Scripted {
    seen: mpsc::Sender<Seen>,
    finish: Arc<Mutex<Vec<String>>>,
}

struct ScriptedPlaying {
    text: String,
    seen: mpsc::Sender<Seen>,
    finish: Arc<Mutex<Vec<String>>>,
}

impl Backend for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn start(&self, text: &str, language: Language) -> Result<Box<dyn Playing>, SpeechError> {
        let text = format!("{}:{text}", language.code());
        self.seen.send(Seen::Started(text.clone())).unwrap();
        Ok(Box::new(ScriptedPlaying {
            text,
            seen: self.seen.clone(),
            finish: self.finish.clone(),
        }))
    }
}

impl Playing for ScriptedPlaying {
    fn is_done(&mut self) -> bool {
        let mut f = self.finish.lock().unwrap();
        let done = f.contains(&self.text);
        if done {
            f.retain(|t| t != &self.text);
            self.seen.send(Seen::Finished(self.text.clone())).unwrap();
        }
        done
    }
    fn stop(&mut self) {
        self.seen.send(Seen::Stopped(self.text.clone())).unwrap();
    }
}

fn scripted() -> (Speech, mpsc::Receiver<Seen>, Arc<Mutex<Vec<String>>>) {
    let (tx, rx) = mpsc::channel();
    let finish = Arc::new(Mutex::new(Vec::new()));
    let speech = Speech::start(Box::new(Scripted {
        seen: tx,
        finish: finish.clone(),
    }));
    (speech, rx, finish)
}

fn next(rx: &mpsc::Receiver<Seen>) -> Seen {
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the worker reports within 5 s")
}

#[test]
fn newest_utterance_wins_and_the_stale_one_is_stopped() {
    let (speech, rx, finish) = scripted();
    speech.say("Start", Language::Danish);
    assert_eq!(next(&rx), Seen::Started("da:Start".into()));
    // While "Start" is spoken, two more arrive: "Log på" is stale before it ever starts.
    speech.say("Log på", Language::Danish);
    speech.say("Sign in", Language::English);
    assert_eq!(next(&rx), Seen::Stopped("da:Start".into()));
    // The worker may wake between the two calls and start "Log på"; then the newer "Sign in"
    // must stop it before it starts. Either way "Sign in" is the one that is spoken to the end.
    let mut seen = next(&rx);
    if seen == Seen::Started("da:Log på".into()) {
        assert_eq!(next(&rx), Seen::Stopped("da:Log på".into()));
        seen = next(&rx);
    }
    assert_eq!(seen, Seen::Started("en:Sign in".into()));
    finish.lock().unwrap().push("en:Sign in".into());
    assert_eq!(next(&rx), Seen::Finished("en:Sign in".into()));
    drop(speech);
    // Nothing else was ever started after it.
    assert!(rx.try_iter().all(|s| !matches!(s, Seen::Started(_))));
}

#[test]
fn say_returns_at_once_while_speaking() {
    let (speech, rx, _finish) = scripted();
    speech.say("one", Language::English);
    assert_eq!(next(&rx), Seen::Started("en:one".into()));
    // The utterance never finishes; `say` must still return without waiting for it.
    let t = std::time::Instant::now();
    for i in 0..100 {
        speech.say(&format!("n{i}"), Language::English);
    }
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[test]
fn disabled_speech_says_nothing_and_stops_the_current_utterance() {
    let (speech, rx, _finish) = scripted();
    assert!(speech.available() && speech.enabled());
    speech.say("one", Language::English);
    assert_eq!(next(&rx), Seen::Started("en:one".into()));
    speech.set_enabled(false);
    assert_eq!(next(&rx), Seen::Stopped("en:one".into()));
    speech.say("two", Language::English);
    speech.set_enabled(true);
    speech.say("three", Language::English);
    assert_eq!(next(&rx), Seen::Started("en:three".into()));
}

#[test]
fn text_is_cleaned_and_empty_text_is_not_spoken() {
    let (speech, rx, _finish) = scripted();
    speech.say(" \n\t", Language::Danish);
    speech.say("Kode\n4821\x1b", Language::Danish);
    assert_eq!(next(&rx), Seen::Started("da:Kode 4821".into()));
}

#[test]
fn silent_speech_is_a_no_op() {
    let speech = Speech::silent();
    speech.say("x", Language::Danish);
    speech.set_enabled(true);
    assert!(!speech.available());
    assert!(!speech.enabled());
    assert_eq!(speech.backend(), "none");
    assert_eq!(Speech::detect(false).backend(), "none");
}

#[test]
fn turning_off_says_so_and_then_nothing() {
    let (speech, rx, finish) = scripted();
    speech.say("one", Language::Danish);
    assert_eq!(next(&rx), Seen::Started("da:one".into()));
    speech.say_then_disable("Oplæsning fra", Language::Danish);
    assert_eq!(next(&rx), Seen::Stopped("da:one".into()));
    assert_eq!(next(&rx), Seen::Started("da:Oplæsning fra".into()));
    assert!(!speech.enabled());
    // Off: later text is dropped, and the confirmation is not cut short by it.
    speech.say("two", Language::Danish);
    finish.lock().unwrap().push("da:Oplæsning fra".into());
    assert_eq!(next(&rx), Seen::Finished("da:Oplæsning fra".into()));
    speech.set_enabled(true);
    speech.say("three", Language::Danish);
    assert_eq!(next(&rx), Seen::Started("da:three".into()));
    drop(speech);
    assert!(rx.try_iter().all(|s| s != Seen::Started("da:two".into())));
}

#[test]
fn as_the_uis_speaker_off_is_confirmed_and_on_speaks_again() {
    use crate::lang::Lang;
    let (speech, rx, _finish) = scripted();
    let speaker: &dyn Speaker = &speech;
    speaker.set_enabled(false, "Oplæsning fra", Lang::Da);
    assert_eq!(next(&rx), Seen::Started("da:Oplæsning fra".into()));
    assert!(!speaker.enabled() && speaker.available());
    speaker.say("ignored", Lang::Da);
    speaker.set_enabled(true, "Speech on", Lang::En);
    assert_eq!(next(&rx), Seen::Stopped("da:Oplæsning fra".into()));
    assert_eq!(next(&rx), Seen::Started("en:Speech on".into()));
    assert!(speaker.enabled());
}
