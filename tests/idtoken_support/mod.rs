//! Token signing and the validation harness shared by the ID token tests.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
pub use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;
use mitid_flex_tv::ciba::claims::IdTokenClaims;
use mitid_flex_tv::ciba::idtoken::{self, Expectations, left_half_hash};
use mitid_flex_tv::ciba::{AccessToken, CibaError, IdToken, NonceMode};
use serde_json::{Value, json};

pub const ISS: &str = "https://pp.netseidbroker.dk/op";
pub const CLIENT: &str = "62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9";
pub const ACCESS: &str = "eyJhbGciOi.access.token";

pub struct Key {
    pub pair: KeyPair,
    pub kid: String,
}

impl Key {
    pub fn new(kid: &str) -> Key {
        Key {
            pair: KeyPair::generate(KeySize::Rsa2048).unwrap(),
            kid: kid.into(),
        }
    }

    pub fn jwk(&self) -> Jwk {
        let public = self.pair.public_key();
        serde_json::from_value(json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
            "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
        }))
        .unwrap()
    }

    pub fn sign(&self, header: &Value, claims: &Value) -> String {
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

    pub fn rs256(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }
}

pub fn now() -> SystemTime {
    SystemTime::now()
}

pub fn secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Claims shaped like the broker's token example.
pub fn claims() -> Value {
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

pub fn with(mut c: Value, key: &str, v: Value) -> Value {
    c[key] = v;
    c
}

pub fn without(mut c: Value, key: &str) -> Value {
    c.as_object_mut().unwrap().remove(key);
    c
}

/// Header step, then the claim steps with the key the kid selects from `set`.
pub fn check(token: &str, set: &[Jwk]) -> Result<IdTokenClaims, CibaError> {
    check_nonce(token, set, NonceMode::Require, None)
}

pub fn check_nonce(
    token: &str,
    set: &[Jwk],
    nonce_mode: NonceMode,
    response_nonce: Option<&str>,
) -> Result<IdTokenClaims, CibaError> {
    let allowed = vec![Algorithm::RS256];
    let access = AccessToken::new(ACCESS);
    let expect = Expectations {
        issuer: ISS,
        client_id: CLIENT,
        trusted_audiences: &[],
        allowed_algs: &allowed,
        signaturgruppen: true,
        ciba_nonce: Some("n-1"),
        nonce_mode,
        response_nonce,
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
    Ok(idtoken::validate(&token, alg, jwk, &expect)?)
}

pub fn step_of(r: Result<IdTokenClaims, CibaError>) -> u8 {
    match r {
        Err(CibaError::IdToken(e)) => e.step(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}
