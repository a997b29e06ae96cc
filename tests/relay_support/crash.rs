//! Sign-ins whose broker answer died with a relay instance. What such an instance leaves
//! behind is made by hand: the test collects the broker's answer (as the dying instance
//! did) and writes that instance's ticket in Redis; what the box then gets depends on
//! whether that instance is alive. Included by tests/relay.rs, whose fixtures it uses.

use super::*;
use mitid_flex_tv::ciba::{AuthReqId, CibaClient, ClientSecret, PollOutcome, TokenResponse};
use mitid_flex_tv::relay::results::{alive_key, request_tag, result_key, tickets_key};
use mitid_flex_tv::relay::seal::Sealer;
use mitid_flex_tv::relay_client::wire::{ResultBody, WireOutcome};

pub struct Crashed {
    pub sim: SimHandle,
    pub pki: Pki,
    pub redis: Redis,
    pub relay: RelayProc,
    pub backend: mitid_flex_tv::relay_client::RelayBackend,
    pub handle: AuthReqId,
    pub tag: String,
    pub tokens: TokenResponse,
    pub sealer: Sealer,
}

pub fn redis_conn(r: &Redis) -> redis::Connection {
    redis::Client::open(r.url.as_str())
        .unwrap()
        .get_connection()
        .unwrap()
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A box starts a sign-in for ileya through a relay with Redis; the viewer approves;
/// the answer is then taken from the broker behind the relay's back, as an instance
/// that dies right after its broker call would have taken it.
pub async fn collected_by_a_vanished_instance(box_id: &str, webhook: Option<String>) -> Crashed {
    let sim = sim_approving().await;
    let pki = Pki::new();
    let redis = Redis::start();
    let relay = relay(&pki, &sim, |o| {
        o.redis_url = Some(redis.url.clone());
        o.webhook_url = webhook;
    });
    let backend = box_backend(&pki, box_id, &[&relay.url], &sim.authority());
    let hint = session::login_hint(
        Who::Flex(FlexSubject::Uuid(ileya().uuid)),
        &settings(),
        "x",
        "0000",
    );
    let started = backend.start(&hint).await.expect("start");
    let sealer = Sealer::new(&[0; 32]).unwrap();
    let sealed = sealer
        .open(box_id, started.auth_req_id.expose())
        .expect("the test key opens the handle");
    let id = sealed.auth_req_id();
    let mut broker_cfg = relay_support::broker_for_box(&sim.authority());
    broker_cfg.client_secret = ClientSecret::new(sim::PP_DEMO_CLIENT_SECRET);
    let broker = CibaClient::new(broker_cfg).unwrap();
    let mut tokens = None;
    for _ in 0..100 {
        match broker.poll(&id).await.unwrap() {
            PollOutcome::Tokens(t) => {
                tokens = Some(t);
                break;
            }
            PollOutcome::Pending | PollOutcome::SlowDown => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("{other:?}"),
        }
    }
    Crashed {
        tag: request_tag(&id),
        tokens: tokens.expect("approved within 5 s"),
        sim,
        pki,
        redis,
        relay,
        backend,
        handle: started.auth_req_id,
        sealer,
    }
}

pub fn ticket(c: &Crashed, instance: &str) {
    let _: () = redis::cmd("HSET")
        .arg(tickets_key(&c.tag))
        .arg(format!("{instance}/0"))
        .arg(now_ms())
        .query(&mut redis_conn(&c.redis))
        .unwrap();
}

pub fn alive(c: &Crashed, instance: &str) {
    let _: () = redis::cmd("SET")
        .arg(alive_key(instance))
        .arg(1)
        .arg("PX")
        .arg(60_000)
        .query(&mut redis_conn(&c.redis))
        .unwrap();
}

/// The live instance finishes: its answer, sealed to the box, as it keeps it.
pub fn keep(c: &Crashed, box_id: &str) {
    let body = ResultBody {
        outcome: WireOutcome::SignedIn,
        id_token: Some(c.tokens.id_token.expose().to_string()),
        access_token: c
            .tokens
            .access_token
            .as_ref()
            .map(|a| a.expose().to_string()),
        profile: None,
        detail: None,
    };
    let sealed = c
        .sealer
        .seal_bytes(box_id, serde_json::to_vec(&body).unwrap())
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(result_key(&c.tag))
        .arg(sealed)
        .query(&mut redis_conn(&c.redis))
        .unwrap();
}

/// The instance that took the answer from the broker died before keeping it: the relay
/// says so, typed, and the box starts again by itself, with the same code on the TV: one
/// more push, counted as such, and the viewer is signed in.
#[tokio::test(flavor = "multi_thread")]
async fn an_answer_lost_with_a_dead_instance_is_started_again_with_the_same_code() {
    let c = collected_by_a_vanished_instance("box-crash", None).await;
    ticket(&c, "dead0000");
    let first = c.sim.requests();
    assert_eq!(first.len(), 1);

    let poll = c.backend.poll(&c.handle).await.unwrap();
    assert!(
        matches!(poll, mitid_flex_tv::ciba::PollOutcome::Pending),
        "{poll:?}\n{}",
        c.relay.log()
    );
    assert_eq!(c.backend.repushed(), 1);
    let requests = c.sim.requests();
    assert_eq!(requests.len(), 2, "one more push");
    assert_eq!(c.sim.pushes().get("ileya"), Some(&2));
    // The phone shows the same text (and code) as the first push: the TV stays right.
    assert_eq!(requests[0].reference_text, requests[1].reference_text);

    // The session's handle now polls the new request, which the viewer approves.
    let mut outcome = None;
    for _ in 0..100 {
        match c.backend.poll(&c.handle).await.unwrap() {
            mitid_flex_tv::ciba::PollOutcome::Pending
            | mitid_flex_tv::ciba::PollOutcome::SlowDown => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => {
                outcome = Some(other);
                break;
            }
        }
    }
    let Some(mitid_flex_tv::ciba::PollOutcome::Tokens(tokens)) = outcome else {
        panic!("{outcome:?}\n{}", c.relay.log());
    };
    let profile = c
        .backend
        .validate(&tokens, None, mitid_flex_tv::ciba::NonceMode::Off)
        .await
        .unwrap();
    assert_eq!(profile.name.as_deref(), Some(ileya().name.as_str()));
    assert_eq!(c.backend.repushed(), 1);
    let m = metrics(&c.relay).await;
    assert_eq!(sample(&m, "relay_restarts_total"), 1, "{m}");
    assert_eq!(
        sample(&m, "relay_outcomes_total{outcome=\"lost_in_relay_crash\"}"),
        1,
        "{m}"
    );
    assert!(c.relay.logs("restarted_after_relay_crash").await);
    drop(c.pki);
}

/// The instance holding the answer is alive (its heartbeat is fresh): the box is told to
/// poll again, not to start over, and gets the answer once that instance has kept it.
#[tokio::test(flavor = "multi_thread")]
async fn an_answer_held_by_a_live_instance_is_waited_for_and_replayed() {
    let c = collected_by_a_vanished_instance("box-wait", None).await;
    ticket(&c, "live0000");
    alive(&c, "live0000");
    for _ in 0..3 {
        let poll = c.backend.poll(&c.handle).await.unwrap();
        assert!(
            matches!(poll, mitid_flex_tv::ciba::PollOutcome::Pending),
            "{poll:?}"
        );
    }
    keep(&c, "box-wait");
    let poll = c.backend.poll(&c.handle).await.unwrap();
    assert!(
        matches!(poll, mitid_flex_tv::ciba::PollOutcome::Tokens(_)),
        "{poll:?}"
    );
    assert_eq!(c.backend.repushed(), 0);
    assert_eq!(c.sim.pushes().get("ileya"), Some(&1), "no second push");
    assert!(c.relay.logs("replayed").await);
}

/// No instance of ours asked the broker: its `invalid_grant` is its own, and the viewer is
/// told to start again (no silent re-push).
#[tokio::test(flavor = "multi_thread")]
async fn invalid_grant_without_a_ticket_is_start_again() {
    let c = collected_by_a_vanished_instance("box-plain", None).await;
    let poll = c.backend.poll(&c.handle).await.unwrap();
    assert!(
        matches!(poll, mitid_flex_tv::ciba::PollOutcome::InvalidGrant),
        "{poll:?}"
    );
    assert_eq!(c.backend.repushed(), 0);
    assert_eq!(c.sim.pushes().get("ileya"), Some(&1));
}

/// A webhook delivery queued by an instance that died is delivered by a live one, once.
#[tokio::test(flavor = "multi_thread")]
async fn a_dead_instances_webhook_is_delivered_by_another_once() {
    use mitid_flex_tv::relay::outbox;
    let sim = sim_approving().await;
    let pki = Pki::new();
    let redis = Redis::start();
    let (hook, deliveries) = webhook_sink().await;
    let mut conn = redis_conn(&redis);
    let sealer = Sealer::new(&[0; 32]).unwrap();
    let mut pipe = redis::pipe();
    assert!(outbox::add(
        &mut pipe,
        &sealer,
        "dead0001",
        "tag-1",
        br#"{"request":"tag-1"}"#
    ));
    let _: () = pipe.query(&mut conn).unwrap();
    let relay = relay(&pki, &sim, |o| {
        o.redis_url = Some(redis.url.clone());
        o.webhook_url = Some(hook.clone());
    });
    for _ in 0..100 {
        if !deliveries.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A few more sweeps: nothing is delivered twice.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let got = deliveries.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{}", relay.log());
    assert_eq!(&got[0].1[..], br#"{"request":"tag-1"}"#);
    let left: u64 = redis::cmd("ZCARD")
        .arg("mfr:outbox")
        .query(&mut conn)
        .unwrap();
    assert_eq!(left, 0);
    let m = metrics(&relay).await;
    assert_eq!(sample(&m, "relay_webhook_orphans_total"), 1, "{m}");
}

/// A start whose connection breaks after the request was sent (its instance died under it)
/// goes on to the next instance, and the box counts it: it may have pushed twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_start_whose_instance_dies_under_it_goes_on_to_the_next_and_is_counted() {
    use tokio::io::AsyncReadExt;
    let sim = sim_approving().await;
    let pki = Pki::new();
    let relay = relay(&pki, &sim, |_| {});
    // An "instance" that completes the handshake, reads the request and dies.
    let tls = mitid_flex_tv::relay::tls::server_config(
        &pki.server_cert,
        &pki.server_key,
        &pki.boxes.cert_path,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dying = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(mut stream) = acceptor.accept(tcp).await {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
            }
        }
    });
    let backend = box_backend(&pki, "box-resend", &[&dying, &relay.url], &sim.authority());
    let started = backend.start(&cpr_hint()).await;
    assert!(started.is_ok(), "{:?}\n{}", started.err(), relay.log());
    assert_eq!(backend.resent(), 1);
    assert_eq!(backend.repushed(), 0);
    assert_eq!(sim.pushes().get("ileya"), Some(&1));
}
