//! The in-process simulator used when no broker is configured.

use std::time::Duration;

use mitid_flex_tv::config::Settings;
use mitid_flex_tv::sim::{self, SimHandle, SimOptions};

/// Starts the embedded simulator when the settings ask for it (no issuer on the simulator
/// profile) and returns the issuer to talk to.
pub async fn issuer_for(
    settings: &Settings,
    approve_after: Option<u64>,
) -> Result<(String, Option<SimHandle>), String> {
    if let Some(issuer) = &settings.issuer {
        return Ok((issuer.clone(), None));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot open a loopback port for the simulator: {e}"))?;
    let options = SimOptions {
        auto_approve_after: approve_after.map(Duration::from_secs),
        data_dir: directories::ProjectDirs::from("", "", "mitid-flex-tv")
            .map(|d| d.data_dir().join("simulator")),
        ..SimOptions::default()
    };
    let handle = sim::serve(listener, options)
        .await
        .map_err(|e| format!("cannot start the embedded simulator: {e}"))?;
    Ok((handle.authority(), Some(handle)))
}
