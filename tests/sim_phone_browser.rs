//! Loads the simulator's `/phone` page in headless Chromium and approves a request by clicking,
//! as a person with the (simulated) MitID app would.
//!
//! Needs Node.js, `npm install --prefix tests/browser` (playwright-core) and Debian's
//! `chromium` (`apt-get install chromium`). Set `MITID_SKIP_BROWSER_TESTS=1` to skip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sim_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mitid_flex_tv::sim::RequestStatus;
use sim_support::*;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("browser")
}

/// `None` when the test must be skipped; panics with setup instructions when something is missing.
fn check_setup() -> Option<()> {
    if std::env::var("MITID_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("MITID_SKIP_BROWSER_TESTS=1: skipping the headless Chromium test");
        return None;
    }
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        node_ok,
        "Node.js is missing: install it (`apt-get install nodejs npm`), or set MITID_SKIP_BROWSER_TESTS=1"
    );
    let module = browser_dir().join("node_modules").join("playwright-core");
    assert!(
        module.is_dir(),
        "playwright-core is missing in {}: run `npm install --prefix tests/browser`, or set MITID_SKIP_BROWSER_TESTS=1",
        module.display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is missing at {chromium}: run `apt-get install chromium` (or set CHROMIUM=/path), or set MITID_SKIP_BROWSER_TESTS=1"
    );
    Some(())
}

#[tokio::test]
async fn phone_page_approves_by_click_in_headless_chromium() {
    if check_setup().is_none() {
        return;
    }
    let sim = start(fast_options()).await;
    let reference = "Log på Flex-TV i stuen – æøå <b>fed</b>";
    let hint = format!(
        r#"{{"idp":"mitid","uuid":"{ILEYA_UUID}","referenceTextBody":"{reference}","ip":"1.1.1.1","action":"LOG_ON"}}"#
    );
    let id = start_flex(&sim, &hint).await;
    let (_, body) = poll(&sim, &id).await;
    assert_eq!(error_of(&body), "authorization_pending");

    let script = browser_dir().join("approve.mjs");
    let run = tokio::process::Command::new("node")
        .arg(&script)
        .arg(sim.phone_url())
        .arg(&id)
        .arg("approve")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the browser script finished within 90 s")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "approve.mjs failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(stdout.trim()).expect("script prints JSON");
    assert_eq!(
        report["reference_text"], reference,
        "the page shows the reference text as text"
    );

    assert_eq!(
        sim.request(&id).expect("info").status,
        RequestStatus::Approved
    );
    let claims = signed_in_claims(&sim, &id).await;
    assert_eq!(claims["mitid.reference_text"], reference);
}
