//! From protocol results to the viewer's outcome: whose problem it is decides the outcome
//! (and the exit code of `signin`). Every detail that may carry OP text is sanitized here.

use super::Outcome;
use crate::ciba::{CibaError, PollOutcome};
use crate::sanitize::clean;

/// A failed request to the OP: start, init-auth, JWKS or userinfo.
pub fn failure(e: &CibaError) -> Outcome {
    let detail = e.to_string();
    match e {
        CibaError::Oauth { code, .. } if code == "unknown_user_id" => Outcome::UnknownUser,
        // Checked before `is_network`: a relay's 429 is a wait the viewer is told, not an outage.
        CibaError::RateLimited {
            retry_after_secs, ..
        } => Outcome::RateLimited {
            wait_secs: *retry_after_secs,
        },
        _ if e.is_network() => Outcome::NoConnection { detail },
        // The OP answered, but with nonsense: the broker's problem, not our configuration.
        CibaError::Protocol { .. } | CibaError::BadStart { .. } | CibaError::TooLarge { .. } => {
            Outcome::Failed { detail }
        }
        CibaError::IdToken(_) => Outcome::TokenRejected { detail },
        CibaError::Oauth { .. }
        | CibaError::Discovery(_)
        | CibaError::InvalidInput(_)
        | CibaError::Unsupported(_) => Outcome::ConfigRefused { detail },
        CibaError::Transport { .. } => Outcome::NoConnection { detail },
    }
}

/// A final poll answer other than tokens.
pub fn terminal(done: PollOutcome) -> Outcome {
    match done {
        PollOutcome::Denied => Outcome::Rejected,
        PollOutcome::Expired => Outcome::Expired,
        PollOutcome::InvalidGrant => Outcome::StartAgain,
        PollOutcome::Refused { code, description } => Outcome::ConfigRefused {
            detail: with_description(&code, description.as_deref()),
        },
        PollOutcome::MitId { status } => Outcome::MitIdError {
            status: clean(&status),
        },
        PollOutcome::TransactionFailed => Outcome::Failed {
            detail: "transaction_failed".into(),
        },
        PollOutcome::Unknown { code, description } => Outcome::Failed {
            detail: with_description(&code, description.as_deref()),
        },
        PollOutcome::Tokens(_)
        | PollOutcome::Pending
        | PollOutcome::SlowDown
        | PollOutcome::Unavailable { .. }
        | PollOutcome::Malformed { .. } => Outcome::Failed {
            detail: "unexpected answer from the token endpoint".into(),
        },
    }
}

fn with_description(code: &str, description: Option<&str>) -> String {
    clean(&match description {
        Some(d) => format!("{code}: {d}"),
        None => code.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whose_problem_decides_the_exit_code() {
        // The exit codes of `signin` (2 this box's config, 5 unknown user, 6 the broker or
        // the network, 7 the ID token), by the outcome each maps to.
        let code = |e: CibaError| match failure(&e) {
            Outcome::ConfigRefused { .. } => 2,
            Outcome::UnknownUser => 5,
            Outcome::NoConnection { .. }
            | Outcome::StartAgain
            | Outcome::MitIdError { .. }
            | Outcome::Failed { .. } => 6,
            Outcome::TokenRejected { .. } => 7,
            other => panic!("not a failure: {other:?}"),
        };
        assert_eq!(code(CibaError::protocol("ciba", 200, "x")), 6);
        assert_eq!(code(CibaError::protocol("ciba", 502, "x")), 6);
        assert_eq!(
            code(CibaError::TooLarge {
                endpoint: "token",
                cap: 1
            }),
            6
        );
        assert_eq!(
            code(CibaError::Transport {
                endpoint: "jwks",
                detail: "down".into()
            }),
            6
        );
        assert_eq!(code(CibaError::Discovery("http".into())), 2);
        let oauth = |c: &str, status| CibaError::Oauth {
            endpoint: "ciba",
            status,
            code: c.into(),
            description: None,
        };
        assert_eq!(code(oauth("invalid_client", 401)), 2);
        assert_eq!(code(oauth("unknown_user_id", 400)), 5);
        assert_eq!(code(oauth("temporarily_unavailable", 503)), 6);
        assert_eq!(
            code(CibaError::IdToken(crate::ciba::IdTokenError::Subject)),
            7
        );
    }

    #[test]
    fn op_text_in_outcomes_is_clean() {
        let o = terminal(PollOutcome::Unknown {
            code: "x\x1b]0;t\x07".into(),
            description: Some("\r\x1b[2J010190-1234".into()),
        });
        assert_eq!(
            o,
            Outcome::Failed {
                detail: "x]0;t: [2J******-****".into()
            }
        );
    }
}
