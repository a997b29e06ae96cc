//! What a box remembers of its sign-ins so that one lost in a relay crash starts again
//! without the viewer noticing more than one more push.
//!
//! The session holds the handle of the first start. When the relay answers
//! `lost_in_relay_crash`, the backend starts again for the same viewer (the relay gives the
//! same reference text and code, so the TV's screen stays true) and from then on polls and
//! cancels the new handle under the old one.

use std::collections::HashMap;
use std::sync::Mutex;

use super::wire::WireWho;

/// A box runs one sign-in at a time; a few more cover a cancelled one still being polled.
const MAX_TRACKED: usize = 16;
/// Restarts of one sign-in at most: two instances dying in a row is already unusual.
pub const MAX_RESTARTS: u8 = 2;

struct Entry {
    who: WireWho,
    code: String,
    current: String,
    restarts: u8,
}

/// A restart to make: for whom, the handle to quote, the code the TV shows.
pub struct Plan {
    pub who: WireWho,
    pub current: String,
    pub code: String,
}

#[derive(Default)]
pub struct Restarts {
    map: Mutex<HashMap<String, Entry>>,
}

impl Restarts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new sign-in (not QR: its code is on the phone's screen, not ours).
    pub fn started(&self, handle: &str, who: WireWho, code: &str) {
        let mut map = self.lock();
        if map.len() >= MAX_TRACKED {
            map.clear();
        }
        map.insert(
            handle.to_string(),
            Entry {
                who,
                code: code.to_string(),
                current: handle.to_string(),
                restarts: 0,
            },
        );
    }

    /// The handle to use for the session's `handle`.
    pub fn current(&self, handle: &str) -> String {
        self.lock()
            .get(handle)
            .map_or_else(|| handle.to_string(), |e| e.current.clone())
    }

    /// What a restart of `handle` needs, or `None` if it is not ours or restarted enough.
    pub fn plan(&self, handle: &str) -> Option<Plan> {
        let map = self.lock();
        let e = map.get(handle).filter(|e| e.restarts < MAX_RESTARTS)?;
        Some(Plan {
            who: e.who.clone(),
            current: e.current.clone(),
            code: e.code.clone(),
        })
    }

    /// The restart succeeded with `new`.
    pub fn restarted(&self, handle: &str, new: String) {
        if let Some(e) = self.lock().get_mut(handle) {
            e.current = new;
            e.restarts = e.restarts.saturating_add(1);
        }
    }

    /// The sign-in is over.
    pub fn finished(&self, handle: &str) {
        self.lock().remove(handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_handle_maps_to_the_new_one_a_bounded_number_of_times() {
        let r = Restarts::default();
        r.started("h1", WireWho::Uuid("u".into()), "1234");
        assert_eq!(r.current("h1"), "h1");
        assert_eq!(r.current("other"), "other");
        for n in 0..MAX_RESTARTS {
            let plan = r.plan("h1").expect("may restart");
            assert_eq!(plan.code, "1234");
            assert_eq!(
                plan.current,
                if n == 0 { "h1".into() } else { format!("h{n}") }
            );
            r.restarted("h1", format!("h{}", n + 1));
        }
        assert!(r.plan("h1").is_none());
        assert_eq!(r.current("h1"), format!("h{MAX_RESTARTS}"));
        r.finished("h1");
        assert_eq!(r.current("h1"), "h1");
        assert!(r.plan("nope").is_none());
    }
}
