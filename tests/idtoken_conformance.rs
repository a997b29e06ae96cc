//! ID token validation, one test per OpenID conformance-suite client test
//! (oidcc-client-test-*), plus the HS256 key-confusion attack and the broker's own claims.
//! Tokens are signed here with aws-lc, independently of the simulator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use mitid_flex_tv::ciba::discovery::{JwksCache, KeyLookup};
use mitid_flex_tv::ciba::idtoken::{self, Expectations, left_half_hash};
use mitid_flex_tv::ciba::{AccessToken, CibaError, IdToken};
use serde_json::{Value, json};

const ISS: &str = "https://pp.netseidbroker.dk/op";
const CLIENT: &str = "62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9";
const ACCESS: &str = "eyJhbGciOi.access.token";

struct Key {
    pair: KeyPair,
    kid: String,
}

impl Key {
    fn new(kid: &str) -> Key {
        Key {
            pair: KeyPair::generate(KeySize::Rsa2048).unwrap(),
            kid: kid.into(),
        }
    }

    fn jwk(&self) -> Jwk {
        let public = self.pair.public_key();
        serde_json::from_value(json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
            "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
        }))
        .unwrap()
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", B64.encode(sig))
    }

    fn rs256(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Claims shaped like the broker's token example.
fn claims() -> Value {
    let t = secs(now());
    json!({
        "iss": ISS, "aud": CLIENT, "sub": "7c9484f5-44bf-4e29-a683-84548951d3b8",
        "nbf": t, "iat": t, "exp": t + 300, "auth_time": t,
        "at_hash": left_half_hash(Algorithm::RS256, ACCESS),
        "idp": "mitid", "idtoken_type": "ciba",
        "mitid.uuid": "8a9856e0-f12d-4217-b320-c8a076be9320",
        "mitid.identity_name": "Ileya Jensen", "mitid.date_of_birth": "1936-04-08", "mitid.age": "90",
        "ciba_nonce": "n-1",
    })
}

fn with(mut c: Value, key: &str, v: Value) -> Value {
    c[key] = v;
    c
}

fn without(mut c: Value, key: &str) -> Value {
    c.as_object_mut().unwrap().remove(key);
    c
}

/// Header step, then the claim steps with the key the kid selects from `set`.
fn check(token: &str, set: &[Jwk]) -> Result<serde_json::Map<String, Value>, CibaError> {
    let allowed = vec!["RS256".to_string()];
    let access = AccessToken::new(ACCESS);
    let expect = Expectations {
        issuer: ISS,
        client_id: CLIENT,
        trusted_audiences: &[],
        allowed_algs: &allowed,
        signaturgruppen: true,
        ciba_nonce: Some("n-1"),
        access_token: Some(&access),
        now: now(),
    };
    let token = IdToken::new(token);
    let (alg, kid) = idtoken::header(&token, &allowed)?;
    let jwk = match kid {
        Some(kid) => set
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid.as_str())),
        None if set.len() == 1 => set.first(),
        None => None,
    };
    idtoken::validate(&token, alg, jwk, &expect)
}

fn step_of(r: Result<serde_json::Map<String, Value>, CibaError>) -> u8 {
    match r {
        Err(CibaError::IdToken { step, .. }) => step,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn valid_broker_token_is_accepted() {
    let k = Key::new("K1");
    let c = check(&k.rs256(&claims()), &[k.jwk()]).unwrap();
    assert_eq!(c["mitid.identity_name"], "Ileya Jensen");
}

#[test]
fn invalid_null_alg() {
    let k = Key::new("K1");
    let header = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let token = format!("{header}.{}.", B64.encode(claims().to_string()));
    assert_eq!(step_of(check(&token, &[k.jwk()])), 1);
}

#[test]
fn invalid_alternate_alg() {
    // RS384 is asymmetric but not what discovery lists for this OP.
    let k = Key::new("K1");
    let token = k.sign(&json!({"alg": "RS384", "kid": "K1"}), &claims());
    assert_eq!(step_of(check(&token, &[k.jwk()])), 2);
}

#[test]
fn hs256_with_the_public_key_as_secret_is_refused() {
    let k = Key::new("K1");
    let public_der = k.pair.public_key().as_ref().to_vec();
    let input = format!(
        "{}.{}",
        B64.encode(r#"{"alg":"HS256","kid":"K1"}"#),
        B64.encode(claims().to_string())
    );
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &public_der),
        input.as_bytes(),
    );
    let token = format!("{input}.{}", B64.encode(tag.as_ref()));
    assert_eq!(step_of(check(&token, &[k.jwk()])), 2);
}

#[test]
fn invalid_signature() {
    let k = Key::new("K1");
    let mut token = k.rs256(&claims());
    let last = token.pop().unwrap();
    token.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(step_of(check(&token, &[k.jwk()])), 4);
}

#[test]
fn signed_by_a_key_not_in_the_jwks_under_a_known_kid() {
    let published = Key::new("K1");
    let attacker = Key::new("K1");
    assert_eq!(
        step_of(check(&attacker.rs256(&claims()), &[published.jwk()])),
        4
    );
}

#[test]
fn jku_jwk_and_x5u_headers_are_ignored() {
    // The token points at its own key; only the kid from the OP's JWKS may be used.
    let published = Key::new("K1");
    let attacker = Key::new("K1");
    let header = json!({"alg": "RS256", "kid": "K1", "jku": "https://evil.example/jwks",
        "jwk": serde_json::to_value(attacker.jwk()).unwrap(), "x5u": "https://evil.example/cert"});
    assert_eq!(
        step_of(check(
            &attacker.sign(&header, &claims()),
            &[published.jwk()]
        )),
        4
    );
}

#[test]
fn invalid_iss() {
    let k = Key::new("K1");
    let t = k.rs256(&with(claims(), "iss", json!("https://evil.example/op")));
    assert_eq!(step_of(check(&t, &[k.jwk()])), 5);
}

#[test]
fn missing_iss() {
    let k = Key::new("K1");
    assert_eq!(
        step_of(check(&k.rs256(&without(claims(), "iss")), &[k.jwk()])),
        5
    );
}

#[test]
fn invalid_aud() {
    let k = Key::new("K1");
    let t = k.rs256(&with(claims(), "aud", json!("someone-else")));
    assert_eq!(step_of(check(&t, &[k.jwk()])), 6);
}

#[test]
fn missing_aud() {
    let k = Key::new("K1");
    assert_eq!(
        step_of(check(&k.rs256(&without(claims(), "aud")), &[k.jwk()])),
        6
    );
}

#[test]
fn invalid_secondary_aud() {
    let k = Key::new("K1");
    let c = with(
        with(
            claims(),
            "aud",
            json!([CLIENT, "https://untrusted.example"]),
        ),
        "azp",
        json!(CLIENT),
    );
    assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 6);
}

#[test]
fn several_audiences_need_azp_to_be_us() {
    // With an extra audience we trust, azp decides.
    let k = Key::new("K1");
    let allowed = vec!["RS256".to_string()];
    let trusted = vec!["https://trusted.example".to_string()];
    let access = AccessToken::new(ACCESS);
    let run = |c: &Value| {
        let token = IdToken::new(k.rs256(c));
        let expect = Expectations {
            issuer: ISS,
            client_id: CLIENT,
            trusted_audiences: &trusted,
            allowed_algs: &allowed,
            signaturgruppen: true,
            ciba_nonce: None,
            access_token: Some(&access),
            now: now(),
        };
        idtoken::validate(&token, Algorithm::RS256, Some(&k.jwk()), &expect)
    };
    let two = with(claims(), "aud", json!([CLIENT, "https://trusted.example"]));
    assert_eq!(step_of(run(&two)), 6, "no azp");
    assert_eq!(
        step_of(run(&with(
            two.clone(),
            "azp",
            json!("https://trusted.example")
        ))),
        6
    );
    assert!(run(&with(two, "azp", json!(CLIENT))).is_ok());
}

#[test]
fn invalid_expired_exp() {
    let k = Key::new("K1");
    let t = secs(now());
    let c = with(with(claims(), "exp", json!(t - 61)), "iat", json!(t - 361));
    assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 7);
}

#[test]
fn exp_within_the_allowed_skew_passes() {
    let k = Key::new("K1");
    let t = secs(now());
    let c = with(claims(), "exp", json!(t - 30));
    assert!(check(&k.rs256(&c), &[k.jwk()]).is_ok());
}

#[test]
fn missing_exp() {
    let k = Key::new("K1");
    assert_eq!(
        step_of(check(&k.rs256(&without(claims(), "exp")), &[k.jwk()])),
        7
    );
}

#[test]
fn iat_is_week_in_past() {
    let k = Key::new("K1");
    let week_ago = secs(now() - Duration::from_secs(7 * 24 * 3600));
    let c = with(claims(), "iat", json!(week_ago));
    assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 7);
}

#[test]
fn nbf_in_the_future() {
    let k = Key::new("K1");
    let c = with(claims(), "nbf", json!(secs(now()) + 3600));
    assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 7);
}

#[test]
fn invalid_athash() {
    let k = Key::new("K1");
    let c = with(
        claims(),
        "at_hash",
        json!(left_half_hash(Algorithm::RS256, "another-token")),
    );
    assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 9);
}

#[test]
fn idtoken_type_not_ciba() {
    let k = Key::new("K1");
    let c = with(claims(), "idtoken_type", json!("login"));
    assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 10);
}

#[test]
fn idp_not_mitid() {
    let k = Key::new("K1");
    let c = with(claims(), "idp", json!("nemlogin"));
    assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 10);
}

#[test]
fn ciba_nonce_must_echo() {
    let k = Key::new("K1");
    assert_eq!(
        step_of(check(
            &k.rs256(&with(claims(), "ciba_nonce", json!("other"))),
            &[k.jwk()]
        )),
        11
    );
    assert_eq!(
        step_of(check(
            &k.rs256(&without(claims(), "ciba_nonce")),
            &[k.jwk()]
        )),
        11
    );
}

#[test]
fn kid_absent_multiple_jwks() {
    let a = Key::new("A");
    let b = Key::new("B");
    let token = a.sign(&json!({"alg": "RS256"}), &claims());
    assert_eq!(step_of(check(&token, &[a.jwk(), b.jwk()])), 3);
    // With a single key in the set, the kid may be left out (kid-absent-single-jwks).
    assert!(check(&token, &[a.jwk()]).is_ok());
}

#[tokio::test]
async fn signing_key_rotation() {
    // The OP starts signing with a new key: the unknown kid re-fetches the JWKS once.
    let old = Key::new("OLD");
    let new = Key::new("NEW");
    let fetches = std::sync::atomic::AtomicU32::new(0);
    let cache = JwksCache::new(Duration::from_secs(60));
    let fetch = || async {
        let n = fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let keys = if n == 0 {
            vec![old.jwk()]
        } else {
            vec![old.jwk(), new.jwk()]
        };
        Ok(JwkSet { keys })
    };
    let kid_of = |k: KeyLookup<'_>| match k {
        KeyLookup::Found(jwk) => jwk.common.key_id.clone(),
        KeyLookup::Missing => None,
    };
    assert_eq!(
        cache
            .with_key(Some("OLD"), fetch, kid_of)
            .await
            .unwrap()
            .as_deref(),
        Some("OLD")
    );
    assert_eq!(
        cache
            .with_key(Some("NEW"), fetch, kid_of)
            .await
            .unwrap()
            .as_deref(),
        Some("NEW")
    );
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
    // A forged kid right after cannot force another fetch (rate limit).
    assert_eq!(
        cache.with_key(Some("FORGED"), fetch, kid_of).await.unwrap(),
        None
    );
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
}
