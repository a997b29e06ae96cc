//! Typing letters with a remote's number keys by multi-tap, as phones and TVs have long done
//! (the letter groups of ITU-T E.161: 2 = abc, 3 = def, … 9 = wxyz).
//!
//! Pressing a key shows its first letter as *pending*; pressing the same key again within
//! [`DEFAULT_TIMEOUT`] steps to the next letter of the group, and after the last letter to the
//! key's digit, then round again. The pending letter is committed when
//! - another number key is pressed (which starts a new pending letter at once),
//! - the timeout passes ([`MultiTap::tick`], driven by the caller's timer), or
//! - the caller commits it ([`MultiTap::commit`]), e.g. before OK, an arrow or Delete.
//!
//! Danish letters sit where Danish mobile phones put them: æ and å after c on 2 (they are
//! a-like), ø after o on 6. They go last in their group, so the English letters keep their
//! familiar press counts and "ileya" is no longer to type in Danish than in English.
//!
//! 1 carries the few symbols a user ID may hold (`.`, `-`, `_`, `@`). A key with nothing to
//! cycle through types its digit at once, with nothing pending: 0 always (a user ID has no
//! spaces), 4–9 for a MitID uuid ([`Mode::Hex`]: only a–f and `-` are letters there), and
//! every key in [`Mode::Digits`] (a CPR number).
//!
//! The module is pure: time comes in as an [`Instant`] argument, so tests pass a fake clock.
//! Letters are lower case; the keyboard's Shift decides the case when it inserts them.

use std::time::{Duration, Instant};

/// How long a pending letter waits for the same key before it is committed: long enough for a
/// second press of a remote's rubber key, short enough not to stall the next letter on that key.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1200);

/// What a number key types besides its own digit, in the order of presses.
const GROUPS: [&str; 10] = [
    "",      // 0
    ".-_@",  // 1
    "abcæå", // 2
    "def",   // 3
    "ghi",   // 4
    "jkl",   // 5
    "mnoø",  // 6
    "pqrs",  // 7
    "tuv",   // 8
    "wxyz",  // 9
];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Letters by multi-tap, the digit after the group's last letter (user IDs).
    #[default]
    Letters,
    /// Only the hexadecimal letters and `-` of each group (a MitID uuid).
    Hex,
    /// Each key types its digit at once (CPR numbers, a real keyboard's digits).
    Digits,
}

impl Mode {
    /// Whether `c` is one of the letters this mode cycles through.
    fn takes(self, c: char) -> bool {
        match self {
            Mode::Letters => true,
            Mode::Hex => c.is_ascii_hexdigit() || c == '-',
            Mode::Digits => false,
        }
    }
}

/// The result of one key press: at most two characters become final (the letter that was
/// pending, then a digit typed at once) and at most one is pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Typed {
    /// The letter that was pending, now final: insert it first.
    pub committed: Option<char>,
    /// A digit typed at once by a key with nothing to cycle through: insert it next.
    pub digit: Option<char>,
    /// The character shown as pending after this press, if any.
    pub pending: Option<char>,
}

impl Typed {
    /// The characters to insert into the field, in order.
    pub fn chars(self) -> impl Iterator<Item = char> {
        self.committed.into_iter().chain(self.digit)
    }
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    key: u8,
    index: usize,
    since: Instant,
}

#[derive(Clone, Debug)]
pub struct MultiTap {
    mode: Mode,
    timeout: Duration,
    pending: Option<Pending>,
}

impl Default for MultiTap {
    fn default() -> Self {
        Self::new(Mode::default())
    }
}

impl MultiTap {
    pub fn new(mode: Mode) -> Self {
        Self::with_timeout(mode, DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(mode: Mode, timeout: Duration) -> Self {
        Self {
            mode,
            timeout,
            pending: None,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switches mode; a pending letter is committed first and returned.
    pub fn set_mode(&mut self, mode: Mode) -> Option<char> {
        let committed = self.commit();
        self.mode = mode;
        committed
    }

    /// A number key (0–9) was pressed at `now`. Other values are ignored.
    pub fn press(&mut self, key: u8, now: Instant) -> Typed {
        if usize::from(key) >= GROUPS.len() {
            return Typed::default();
        }
        let mut committed = self.tick(now);
        let cycle = cycle_len(self.mode, key);
        if cycle == 1 {
            // Nothing to cycle through: the digit is final at once.
            return Typed {
                committed: committed.or_else(|| self.commit()),
                digit: digit(key),
                pending: None,
            };
        }
        let index = match self.pending {
            Some(p) if p.key == key => (p.index + 1) % cycle,
            Some(_) => {
                committed = self.commit();
                0
            }
            None => 0,
        };
        self.pending = Some(Pending {
            key,
            index,
            since: now,
        });
        Typed {
            committed,
            digit: None,
            pending: self.pending_char(),
        }
    }

    /// Commits the pending letter if its timeout has passed at `now`.
    pub fn tick(&mut self, now: Instant) -> Option<char> {
        match self.pending {
            Some(p) if now.saturating_duration_since(p.since) >= self.timeout => self.commit(),
            _ => None,
        }
    }

    /// When the caller's timer should call [`tick`](Self::tick), if a letter is pending.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.map(|p| p.since + self.timeout)
    }

    /// Commits the pending letter now (before OK, an arrow, Delete, …).
    pub fn commit(&mut self) -> Option<char> {
        let p = self.pending.take()?;
        char_at(self.mode, p.key, p.index)
    }

    /// Drops the pending letter without typing it (Delete while a letter is pending); returns
    /// whether one was pending, so Delete knows whether to delete a typed character instead.
    pub fn cancel(&mut self) -> bool {
        self.pending.take().is_some()
    }

    /// The letter shown as pending, if any.
    pub fn pending_char(&self) -> Option<char> {
        self.pending
            .and_then(|p| char_at(self.mode, p.key, p.index))
    }
}

/// The letters `key` cycles through in `mode`.
fn letters(mode: Mode, key: u8) -> impl Iterator<Item = char> {
    GROUPS
        .get(usize::from(key))
        .copied()
        .unwrap_or_default()
        .chars()
        .filter(move |c| mode.takes(*c))
}

/// The letters the remote's `key` types in `mode`, for the on-screen keypad's hints.
pub fn letters_on(mode: Mode, key: u8) -> String {
    letters(mode, key).collect()
}

/// Letters and then the digit.
fn cycle_len(mode: Mode, key: u8) -> usize {
    letters(mode, key).count() + 1
}

fn char_at(mode: Mode, key: u8, index: usize) -> Option<char> {
    letters(mode, key).nth(index).or_else(|| digit(key))
}

fn digit(key: u8) -> Option<char> {
    char::from_digit(u32::from(key), 10)
}

/// One step of typing a text from a cold start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Press(u8),
    /// Let the pending letter time out: the next character is on the same key.
    Wait,
}

/// The fewest steps that type `text` (lower-case letters, digits and the symbols on 1) in
/// `Mode::Letters`, ending with the last character still pending (OK commits it). `None` if
/// some character has no key.
pub fn plan(text: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut pending_key = None;
    for c in text.chars() {
        let (key, presses) = key_for(c)?;
        if pending_key == Some(key) {
            steps.push(Step::Wait);
        }
        steps.extend(std::iter::repeat_n(Step::Press(key), presses));
        // A key that types its digit at once leaves nothing pending to wait for.
        pending_key = (cycle_len(Mode::Letters, key) > 1).then_some(key);
    }
    Some(steps)
}

/// The key that types `c` in `Mode::Letters` and how many presses it takes from nothing
/// pending.
pub fn key_for(c: char) -> Option<(u8, usize)> {
    (0u8..10).find_map(|key| {
        let at = letters(Mode::Letters, key)
            .position(|g| g == c)
            .or_else(|| (digit(key) == Some(c)).then(|| letters(Mode::Letters, key).count()))?;
        Some((key, at + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Runs `steps` from a cold start with presses 100 ms apart and waits of one timeout, then
    /// commits (as OK would); returns the text typed.
    fn run(steps: &[Step]) -> String {
        let mut t = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        let mut out = String::new();
        for s in steps {
            match s {
                Step::Press(k) => {
                    t += ms(100);
                    let typed = mt.press(*k, t);
                    out.extend(typed.chars());
                }
                Step::Wait => {
                    t += DEFAULT_TIMEOUT;
                    out.extend(mt.tick(t));
                }
            }
        }
        out.extend(mt.commit());
        out
    }

    #[test]
    fn ileya_takes_twelve_presses_and_fourteen_from_cold_start() {
        // i = 4×3, l = 5×3, e = 3×2, y = 9×3, a = 2×1: 12 presses. Each letter is on a
        // different key from the one before, so no letter waits for a timeout: the next key
        // commits the previous letter. From a cold start the viewer also presses OK on Start
        // (1) and OK to send (1), which commits the pending "a": 14 presses, within 15.
        let steps = plan("ileya").unwrap();
        assert!(!steps.contains(&Step::Wait));
        assert_eq!(steps.len(), 12);
        assert_eq!(run(&steps), "ileya");
        let from_cold_start = 1 + steps.len() + 1;
        assert_eq!(from_cold_start, 14);
        assert!(from_cold_start <= 15);
    }

    #[test]
    fn plans_type_what_they_plan() {
        for text in ["ileya", "aabb", "zzz", "ø.å-æ", "user_01@x", "0042", "ss"] {
            let steps = plan(text).unwrap();
            assert_eq!(run(&steps), text, "{steps:?}");
        }
        assert!(plan("A").is_none());
        assert!(plan(" ").is_none());
    }

    #[test]
    fn same_key_cycles_letters_then_digit_then_round() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        let seen: Vec<_> = (0..6u64)
            .map(|i| mt.press(7, t0 + ms(100 * i)).pending)
            .collect();
        assert_eq!(
            seen,
            [
                Some('p'),
                Some('q'),
                Some('r'),
                Some('s'),
                Some('7'),
                Some('p')
            ]
        );
        assert_eq!(mt.commit(), Some('p'));
        assert_eq!(mt.commit(), None);
    }

    #[test]
    fn danish_letters_follow_their_english_neighbours() {
        assert_eq!(key_for('æ'), Some((2, 4)));
        assert_eq!(key_for('å'), Some((2, 5)));
        assert_eq!(key_for('ø'), Some((6, 4)));
        assert_eq!(key_for('2'), Some((2, 6)));
        assert_eq!(key_for('0'), Some((0, 1)));
    }

    #[test]
    fn pending_letter_commits_exactly_at_the_timeout() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        assert_eq!(
            mt.press(4, t0),
            Typed {
                committed: None,
                digit: None,
                pending: Some('g')
            }
        );
        assert_eq!(mt.deadline(), Some(t0 + DEFAULT_TIMEOUT));
        assert_eq!(mt.tick(t0 + DEFAULT_TIMEOUT - ms(1)), None);
        assert_eq!(mt.pending_char(), Some('g'));
        assert_eq!(mt.tick(t0 + DEFAULT_TIMEOUT), Some('g'));
        assert_eq!(mt.pending_char(), None);
        assert_eq!(mt.deadline(), None);
        // The same key after the timeout starts a new letter instead of cycling.
        let t1 = t0 + DEFAULT_TIMEOUT + ms(10);
        assert_eq!(mt.press(4, t1).pending, Some('g'));
    }

    #[test]
    fn same_key_after_timeout_without_tick_commits_then_starts_over() {
        // The caller's timer may fire late: a press after the deadline still commits first.
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        mt.press(2, t0);
        let typed = mt.press(2, t0 + DEFAULT_TIMEOUT + ms(500));
        assert_eq!(
            typed,
            Typed {
                committed: Some('a'),
                digit: None,
                pending: Some('a')
            }
        );
    }

    #[test]
    fn another_key_commits_the_pending_letter() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        mt.press(4, t0);
        mt.press(4, t0 + ms(100));
        let typed = mt.press(5, t0 + ms(200));
        assert_eq!(
            typed,
            Typed {
                committed: Some('h'),
                digit: None,
                pending: Some('j')
            }
        );
    }

    #[test]
    fn cancel_drops_the_pending_letter() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        mt.press(9, t0);
        assert!(mt.cancel());
        assert!(!mt.cancel());
        assert_eq!(mt.commit(), None);
        assert_eq!(mt.tick(t0 + ms(5000)), None);
    }

    #[test]
    fn digits_mode_types_digits_at_once() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Digits);
        for k in 0..10u8 {
            assert_eq!(
                mt.press(k, t0),
                Typed {
                    committed: None,
                    digit: char::from_digit(u32::from(k), 10),
                    pending: None
                }
            );
        }
        assert_eq!(mt.press(10, t0), Typed::default());
        assert_eq!(mt.pending_char(), None);
    }

    #[test]
    fn zero_commits_the_pending_letter_and_types_at_once() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        mt.press(6, t0);
        let typed = mt.press(0, t0 + ms(100));
        assert_eq!(
            typed,
            Typed {
                committed: Some('m'),
                digit: Some('0'),
                pending: None
            }
        );
        assert_eq!(typed.chars().collect::<String>(), "m0");
        assert_eq!(mt.press(0, t0 + ms(200)).chars().collect::<String>(), "0");
        assert_eq!(mt.commit(), None);
        assert_eq!(mt.deadline(), None);
    }

    #[test]
    fn hex_mode_cycles_only_hex_letters() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Hex);
        let seen: Vec<_> = (0..5u64)
            .map(|i| mt.press(2, t0 + ms(10 * i)).pending)
            .collect();
        assert_eq!(
            seen,
            [Some('a'), Some('b'), Some('c'), Some('2'), Some('a')]
        );
        // 1 holds only `-` of its symbols; 5 has no hex letter and types 5 at once.
        let typed = mt.press(1, t0 + ms(100));
        assert_eq!((typed.committed, typed.pending), (Some('a'), Some('-')));
        assert_eq!(mt.press(1, t0 + ms(110)).pending, Some('1'));
        let typed = mt.press(5, t0 + ms(120));
        assert_eq!(typed.chars().collect::<String>(), "15");
        assert_eq!(typed.pending, None);
        assert_eq!(mt.press(3, t0 + ms(130)).pending, Some('d'));
    }

    #[test]
    fn switching_mode_commits() {
        let t0 = Instant::now();
        let mut mt = MultiTap::new(Mode::Letters);
        mt.press(3, t0);
        assert_eq!(mt.set_mode(Mode::Digits), Some('d'));
        assert_eq!(mt.mode(), Mode::Digits);
        assert_eq!(mt.press(3, t0).digit, Some('3'));
    }

    #[test]
    fn out_of_range_keys_are_ignored() {
        let mut mt = MultiTap::new(Mode::Letters);
        assert_eq!(mt.press(11, Instant::now()), Typed::default());
        assert_eq!(mt.press(255, Instant::now()), Typed::default());
        assert_eq!(mt.pending_char(), None);
    }
}
