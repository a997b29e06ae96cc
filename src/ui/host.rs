//! What the UI asks of the world outside the window. The UI thread never waits for any of it:
//! results come back as [`super::events::UiEvent`]s.

use std::rc::Rc;

use crate::ciba::Profile;
use crate::session::Who;
use crate::viewers::ViewerKey;

use crate::speech::{Silent, Speaker};

/// A change to the viewer store, carried out by the host off the UI thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewerOp {
    Remember { name: String, key: ViewerKey },
    Touch(ViewerKey),
    Forget(ViewerKey),
    ForgetAll,
}

pub trait Host {
    /// Starts a sign-in. Its updates come back as `UiEvent::Session { generation, .. }`.
    fn start(&self, generation: u64, who: Who) -> Box<dyn Running>;
    /// The signed-in viewer pressed "Fortsæt": hand the identity to the operator's
    /// middleware. The result comes back as `UiEvent::HandedOff` or `UiEvent::HandoffFailed`.
    fn signed_in(&self, profile: &Profile, reference_text: &str);
    /// Change the viewer store; the host answers with `UiEvent::Viewers`.
    fn viewers(&self, op: ViewerOp);
    /// Back on Start, where the installation allows it: leave the app.
    fn exit(&self);
    /// Where spoken guidance goes (`[ui] speech`); silent unless the host has a synthesiser.
    fn speaker(&self) -> Rc<dyn Speaker> {
        Rc::new(Silent)
    }
}

pub trait Running {
    /// Idempotent: the session tells the OP once.
    fn cancel(&self);
}
