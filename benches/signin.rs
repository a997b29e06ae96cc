//! Sign-in benchmarks, run with `cargo bench --bench signin [-- latency|memory]`.
//!
//! latency: the real `signin --json` binary against an in-process simulator with a 1 s poll
//!          interval; the phone approves at a random phase of the poll cycle; we time from
//!          the approval to the identity line on stdout. Budget: worst of 20 ≤ interval + 150 ms.
//! memory:  1,000 consecutive sign-ins (client + session + simulator in this process), the
//!          resident set measured after a warm-up of 50 and again at the end. Budget: ≤ 1 MB.
//!          Each sign-in waits one poll interval (1 s, the smallest the wire carries), so this
//!          part takes about 17 minutes; `MEMORY_SIGNINS=N` shortens it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mitid_flex_tv::ciba::{
    CibaClient, ClientAuth, ClientConfig, ClientSecret, Dialect, HintEncoding,
};
use mitid_flex_tv::config::{PP_DEMO_CLIENT_ID, PP_DEMO_CLIENT_SECRET};
use mitid_flex_tv::session::{self, Outcome, SessionSettings, WaitPolicy, Who};
use mitid_flex_tv::sim::{self, SimHandle, SimOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

const INTERVAL: Duration = Duration::from_secs(1);

async fn start_sim(opts: SimOptions) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    sim::serve(listener, opts).await.expect("simulator")
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn latency() {
    let sim = start_sim(SimOptions::with_timings(INTERVAL, Duration::from_secs(300))).await;
    let mut worst = Duration::ZERO;
    let mut all = Vec::new();
    for run in 0..20u64 {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mitid-flex-tv"))
            .args([
                "signin",
                "--profile",
                "signaturgruppen-pp",
                "--issuer",
                &sim.authority(),
            ])
            .args([
                "--kind",
                "uuid",
                "--identifier",
                "8a9856e0-f12d-4217-b320-c8a076be9320",
                "--json",
            ])
            .env("MITID_FLEX_TV_CONFIG", "/dev/null")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn signin");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let id = loop {
            let newest = sim
                .requests()
                .into_iter()
                .max_by_key(|r| r.created_at_unix_ms);
            if let Some(r) =
                newest.filter(|r| r.polls >= 1 && r.status == sim::state::RequestStatus::Pending)
            {
                break r.auth_req_id;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        // Spread approvals over the poll cycle: 50 ms steps across one interval.
        tokio::time::sleep(Duration::from_millis((run * 50) % 1000)).await;
        let approved = Instant::now();
        sim.approve(&id, None).expect("approve");
        let line = lines
            .next_line()
            .await
            .expect("read")
            .expect("identity line");
        let took = approved.elapsed();
        assert!(line.contains("Ileya Jensen"), "{line}");
        let status = child.wait().await.expect("exit");
        assert!(status.success());
        worst = worst.max(took);
        all.push(took.as_millis());
    }
    all.sort_unstable();
    let budget = INTERVAL + Duration::from_millis(150);
    println!(
        "latency approval→identity printed, 20 runs, interval {} ms: median {} ms, worst {} ms (budget {} ms) {}",
        INTERVAL.as_millis(),
        all[all.len() / 2],
        worst.as_millis(),
        budget.as_millis(),
        if worst <= budget { "OK" } else { "OVER BUDGET" }
    );
}

async fn memory() {
    let n: usize = std::env::var("MEMORY_SIGNINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let sim = start_sim(SimOptions {
        auto_approve_after: Some(Duration::ZERO),
        ..SimOptions::with_timings(INTERVAL, Duration::from_secs(300))
    })
    .await;
    let client = Arc::new(
        CibaClient::new(ClientConfig {
            issuer: sim.authority(),
            client_id: PP_DEMO_CLIENT_ID.into(),
            client_secret: ClientSecret::new(PP_DEMO_CLIENT_SECRET),
            auth: ClientAuth::ClientSecretPost,
            scope: "openid mitid".into(),
            dialect: Dialect::Signaturgruppen,
            hint_encoding: HintEncoding::Json,
            request_timeout: Duration::from_secs(10),
        })
        .expect("client"),
    );
    let settings = SessionSettings {
        service_name: "Stue-TV".into(),
        reference_template: "Log på {service} · kode {code}".into(),
        action: None,
        client_ip: "127.0.0.1".parse().expect("ip"),
        ciba_nonce: true,
        binding_message_is_code: false,
        policy: WaitPolicy::default(),
    };
    let warmup = 50.min(n);
    let mut baseline = 0;
    let started = Instant::now();
    for i in 0..n {
        if i == warmup {
            baseline = rss_kib();
        }
        let who = Who::UserId(["ileya", "soeren", "mette", "lukas", "aase"][i % 5].into());
        let out = session::spawn(client.clone(), who, settings.clone(), |_| {})
            .finished()
            .await;
        assert!(matches!(out, Outcome::SignedIn(_)), "sign-in {i}: {out:?}");
    }
    let end = rss_kib();
    let growth = end as i64 - baseline as i64;
    println!(
        "memory: {n} consecutive sign-ins in {:.0} s; RSS after {warmup} = {baseline} KiB, after {n} = {end} KiB, growth {growth} KiB (budget 1024 KiB) {}",
        started.elapsed().as_secs_f64(),
        if growth <= 1024 { "OK" } else { "OVER BUDGET" }
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let which = args
        .first()
        .map(String::as_str)
        .unwrap_or("all")
        .to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if which == "latency" || which == "all" {
            latency().await;
        }
        if which == "memory" || which == "all" {
            memory().await;
        }
    });
}
