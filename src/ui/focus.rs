//! The explicit focus model: each screen lists its focusable items as rows, and the arrows
//! move between them. Focus is a value here, so it can never be "lost": every move starts
//! from an item that exists and ends on one.

use super::generated::Target;
use super::input::Dir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Language,
    SignIn,
    Qr,
    Tile(usize),
    /// "Rediger" on Start; "Færdig" in its edit mode.
    EditViewers,
    Forget(usize),
    ForgetAll,
    /// "Ja, glem" / "Nej" before anything is forgotten.
    ConfirmYes,
    ConfirmNo,
    /// On-screen keyboard key at (row, column).
    Key(usize, usize),
    Cancel,
    /// "Fortsæt" on Signed in.
    Continue,
    Details,
    Remember,
    SignOut,
    Retry,
    Edit,
    Home,
}

impl Item {
    /// How the Slint widgets recognise themselves: (target, row, col).
    pub fn to_slint(self) -> (Target, i32, i32) {
        let i = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        match self {
            Item::Language => (Target::Language, 0, 0),
            Item::SignIn => (Target::SignIn, 0, 0),
            Item::Qr => (Target::Qr, 0, 0),
            Item::Tile(c) => (Target::Tile, 0, i(c)),
            Item::Forget(c) => (Target::Forget, 0, i(c)),
            Item::ForgetAll => (Target::ForgetAll, 0, 0),
            Item::EditViewers => (Target::EditViewers, 0, 0),
            Item::ConfirmYes => (Target::ConfirmYes, 0, 0),
            Item::ConfirmNo => (Target::ConfirmNo, 0, 0),
            Item::Key(r, c) => (Target::Key, i(r), i(c)),
            Item::Cancel => (Target::Cancel, 0, 0),
            Item::Continue => (Target::Continue, 0, 0),
            Item::Details => (Target::Details, 0, 0),
            Item::Remember => (Target::Remember, 0, 0),
            Item::SignOut => (Target::SignOut, 0, 0),
            Item::Retry => (Target::Retry, 0, 0),
            Item::Edit => (Target::Edit, 0, 0),
            Item::Home => (Target::Home, 0, 0),
        }
    }

    pub fn from_slint(target: Target, row: i32, col: i32) -> Option<Item> {
        let (r, c) = (usize::try_from(row).ok()?, usize::try_from(col).ok()?);
        Some(match target {
            Target::None => return None,
            Target::Language => Item::Language,
            Target::SignIn => Item::SignIn,
            Target::Qr => Item::Qr,
            Target::Tile => Item::Tile(c),
            Target::Forget => Item::Forget(c),
            Target::ForgetAll => Item::ForgetAll,
            Target::EditViewers => Item::EditViewers,
            Target::ConfirmYes => Item::ConfirmYes,
            Target::ConfirmNo => Item::ConfirmNo,
            Target::Key => Item::Key(r, c),
            Target::Cancel => Item::Cancel,
            Target::Continue => Item::Continue,
            Target::Details => Item::Details,
            Target::Remember => Item::Remember,
            Target::SignOut => Item::SignOut,
            Target::Retry => Item::Retry,
            Target::Edit => Item::Edit,
            Target::Home => Item::Home,
        })
    }
}

/// A screen's focusable items, row by row, each with the horizontal centre of the item in
/// any consistent unit (used to go up and down between rows of different lengths).
#[derive(Clone, Debug, Default)]
pub struct Grid {
    rows: Vec<Vec<(Item, f32)>>,
    wrap: bool,
}

impl Grid {
    /// Rows whose items are evenly spaced: centre = column index.
    pub fn simple(rows: Vec<Vec<Item>>) -> Self {
        Self {
            rows: rows
                .into_iter()
                .filter(|r| !r.is_empty())
                .map(|r| {
                    r.into_iter()
                        .enumerate()
                        .map(|(i, it)| (it, i as f32))
                        .collect()
                })
                .collect(),
            wrap: false,
        }
    }

    pub fn with_centres(rows: Vec<Vec<(Item, f32)>>) -> Self {
        Self {
            rows: rows.into_iter().filter(|r| !r.is_empty()).collect(),
            wrap: false,
        }
    }

    /// Left and Right go round within a row: on a keyboard's long rows, "a" is one press
    /// from "_", not eleven. A held arrow still stops at the edge ([`Grid::step_held`]).
    pub fn wrapping(mut self) -> Self {
        self.wrap = true;
        self
    }

    pub fn contains(&self, item: Item) -> bool {
        self.position(item).is_some()
    }

    pub fn first(&self) -> Option<Item> {
        self.rows.first().and_then(|r| r.first()).map(|(it, _)| *it)
    }

    fn position(&self, item: Item) -> Option<(usize, usize)> {
        self.rows
            .iter()
            .enumerate()
            .find_map(|(r, row)| row.iter().position(|(it, _)| *it == item).map(|c| (r, c)))
    }

    /// The item one step from `from` in `dir`; `from` itself at an edge, unless rows wrap
    /// (a screen's few buttons do not: there, wrapping makes the viewer lose track of where
    /// they are).
    pub fn step(&self, from: Item, dir: Dir) -> Item {
        self.step_in(from, dir, self.wrap)
    }

    /// A held arrow's step: it stops at the edge even where rows wrap, so that focus never
    /// races round a row.
    pub fn step_held(&self, from: Item, dir: Dir) -> Item {
        self.step_in(from, dir, false)
    }

    fn step_in(&self, from: Item, dir: Dir, wrap: bool) -> Item {
        let Some((r, c)) = self.position(from) else {
            return self.first().unwrap_or(from);
        };
        let row = &self.rows[r];
        let last = row.len() - 1;
        match dir {
            Dir::Left if wrap && c == 0 => row[last].0,
            Dir::Right if wrap && c == last => row[0].0,
            Dir::Left => row[c.saturating_sub(1)].0,
            Dir::Right => row[(c + 1).min(last)].0,
            Dir::Up | Dir::Down => {
                let target = match dir {
                    Dir::Up if r > 0 => r - 1,
                    Dir::Down if r + 1 < self.rows.len() => r + 1,
                    _ => return from,
                };
                let x = row[c].1;
                let next = &self.rows[target];
                next.iter()
                    .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
                    .map(|(it, _)| *it)
                    .unwrap_or(from)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_stay_inside_and_pick_the_nearest_column() {
        let g = Grid::simple(vec![
            vec![Item::Language],
            vec![Item::SignIn, Item::Qr],
            vec![Item::Tile(0), Item::Tile(1), Item::Tile(2)],
        ]);
        assert_eq!(g.step(Item::SignIn, Dir::Left), Item::SignIn);
        assert_eq!(g.step(Item::SignIn, Dir::Right), Item::Qr);
        assert_eq!(g.step(Item::Qr, Dir::Down), Item::Tile(1));
        assert_eq!(g.step(Item::Tile(2), Dir::Up), Item::Qr);
        assert_eq!(g.step(Item::Tile(2), Dir::Down), Item::Tile(2));
        assert_eq!(g.step(Item::Language, Dir::Up), Item::Language);
        assert_eq!(g.step(Item::Cancel, Dir::Up), Item::Language);
    }

    #[test]
    fn wrapping_rows_go_round_but_a_held_arrow_stops_at_the_edge() {
        let g = Grid::simple(vec![vec![
            Item::Key(0, 0),
            Item::Key(0, 1),
            Item::Key(0, 2),
        ]])
        .wrapping();
        assert_eq!(g.step(Item::Key(0, 0), Dir::Left), Item::Key(0, 2));
        assert_eq!(g.step(Item::Key(0, 2), Dir::Right), Item::Key(0, 0));
        assert_eq!(g.step(Item::Key(0, 1), Dir::Right), Item::Key(0, 2));
        assert_eq!(g.step_held(Item::Key(0, 2), Dir::Right), Item::Key(0, 2));
        assert_eq!(g.step_held(Item::Key(0, 0), Dir::Left), Item::Key(0, 0));
        assert_eq!(g.step(Item::Key(0, 0), Dir::Up), Item::Key(0, 0));
    }
}
