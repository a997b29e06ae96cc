//! One file per screen, beside its `ui/screens/<screen>.slint`: what the screen shows
//! (`push`), which items take focus (`grid`), and what a key means there (`on_key`).

pub mod identify;
pub mod outcome;
pub mod qr;
pub mod signed_in;
pub mod start;
pub mod waiting;

use std::rc::Rc;

use slint::{ModelRc, VecModel};

/// A Slint list model from a vector.
pub(super) fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::from(Rc::new(VecModel::from(items)))
}
