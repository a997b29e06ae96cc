//! The in-process simulator used when no broker is configured.

use std::time::Duration;

use mitid_flex_tv::config::Settings;
use mitid_flex_tv::sim::{self, SimHandle};

/// Starts the embedded simulator when the settings ask for it (no issuer on the simulator
/// profile) and returns the issuer to talk to.
pub async fn issuer_for(
    settings: &Settings,
    approve_after: Option<u64>,
) -> Result<(String, Option<SimHandle>), String> {
    if let Some(issuer) = &settings.issuer {
        return Ok((issuer.clone(), None));
    }
    let handle = sim::start_embedded(approve_after.map(Duration::from_secs))
        .await
        .map_err(|e| format!("cannot start the embedded simulator: {e}"))?;
    Ok((handle.authority(), Some(handle)))
}
