//! Small formatting rules for what the screens show.

use std::time::Duration;

/// `mm:ss`, rounded up so that the display reaches 00:00 only when time is really up.
pub fn mm_ss(left: Duration) -> String {
    let secs = seconds(left);
    format!("{:02}:{:02}", secs / 60, secs % 60)
}

/// Whole seconds left, rounded up as mm:ss shows them and capped at 99:59 (two minute digits).
fn seconds(left: Duration) -> i32 {
    i32::try_from(left.as_millis().div_ceil(1000).min(5999)).unwrap_or(5999)
}

/// What the countdown widget shows at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Countdown {
    /// mm:ss, for assistive technology and tests.
    pub text: String,
    pub minutes: i32,
    /// 0–59.
    pub seconds: i32,
    pub progress: f32,
    /// Less than a fifth of the time left: drawn in the warning colour.
    pub urgent: bool,
}

impl Countdown {
    pub fn at(left: Duration, total: Duration) -> Countdown {
        let secs = seconds(left);
        let progress = progress(left, total);
        Countdown {
            text: mm_ss(left),
            minutes: secs / 60,
            seconds: secs % 60,
            progress,
            urgent: progress < 0.2,
        }
    }
}

/// Share of the request's lifetime still left, 0.0–1.0.
pub fn progress(left: Duration, total: Duration) -> f32 {
    if total.is_zero() {
        return 0.0;
    }
    (left.as_secs_f32() / total.as_secs_f32()).clamp(0.0, 1.0)
}

/// Up to two initials for a viewer's tile.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let pick = match words.as_slice() {
        [] => return "?".into(),
        [one] => vec![*one],
        [first, .., last] => vec![*first, *last],
    };
    pick.iter()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A tile's two lines: the first name, and the rest (middle and last names) on its own line,
/// which is the one to elide when a name is long.
pub fn split_name(name: &str) -> (String, String) {
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or_default().to_string();
    let rest = words.collect::<Vec<_>>().join(" ");
    (first, rest)
}

/// `eee4b272-…-…2e78` style masking: the first group and the last four characters.
pub fn mask_uuid(uuid: &str) -> String {
    let chars: Vec<char> = uuid.chars().collect();
    if chars.len() < 12 {
        return "•".repeat(chars.len());
    }
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}-••••-••••-••••-••••••••{tail}")
}

/// ISO `YYYY-MM-DD` as the Danish `DD.MM.YYYY`; anything else is shown as given.
pub fn date(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{d}.{m}.{y}"),
        _ => iso.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countdown_splits_what_mm_ss_shows() {
        let total = Duration::from_secs(300);
        let at = |ms: u64| Countdown::at(Duration::from_millis(ms), total);
        // Rounded up, as mm:ss: 239.001 s left shows 04:00.
        let c = at(239_001);
        assert_eq!((c.text.as_str(), c.minutes, c.seconds), ("04:00", 4, 0));
        let c = at(239_000);
        assert_eq!((c.text.as_str(), c.minutes, c.seconds), ("03:59", 3, 59));
        assert!(!c.urgent);
        // Urgent below a fifth of the time: 59 s of 300.
        assert!(at(59_000).urgent);
        assert!(!at(60_000).urgent);
        let c = at(0);
        assert_eq!(
            (c.text.as_str(), c.minutes, c.seconds, c.progress),
            ("00:00", 0, 0, 0.0)
        );
        // Two minute digits: a longer time shows 99:59.
        let c = Countdown::at(Duration::from_secs(7200), Duration::from_secs(7200));
        assert_eq!((c.text.as_str(), c.minutes, c.seconds), ("99:59", 99, 59));
    }

    #[test]
    fn a_tile_name_is_the_first_name_and_the_rest() {
        let split = |n: &str| split_name(n);
        assert_eq!(split("Ileya Jensen"), ("Ileya".into(), "Jensen".into()));
        assert_eq!(
            split("  Anne  Marie Østergaard-Bække "),
            ("Anne".into(), "Marie Østergaard-Bække".into())
        );
        assert_eq!(split("Cher"), ("Cher".into(), String::new()));
        assert_eq!(split(""), (String::new(), String::new()));
    }

    #[test]
    fn formats() {
        assert_eq!(mm_ss(Duration::from_secs(300)), "05:00");
        assert_eq!(mm_ss(Duration::from_millis(299_001)), "05:00");
        assert_eq!(mm_ss(Duration::from_millis(298_999)), "04:59");
        assert_eq!(mm_ss(Duration::ZERO), "00:00");
        assert_eq!(initials("Ileya Margrethe Jensen"), "IJ");
        assert_eq!(initials("øjvind"), "Ø");
        assert_eq!(
            mask_uuid("eee4b272-6a33-40da-ab0b-5ce2abd42e78"),
            "eee4b272-••••-••••-••••-••••••••2e78"
        );
        assert_eq!(date("1936-04-08"), "08.04.1936");
    }
}
