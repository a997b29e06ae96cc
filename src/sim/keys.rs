//! The simulator's RS256 signing keys: generation, persistence in the data dir, JWKs, signing.
//!
//! JWTs are signed here directly with aws-lc-rs because jsonwebtoken's RSA `EncodingKey`
//! wants PKCS#1 DER while aws-lc-rs generates and exports PKCS#8.

use std::path::Path;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::SimError;

/// File name of the persisted key inside the data dir (PKCS#8 DER, mode 0600).
pub const KEY_FILE: &str = "sim-signing-key.p8";

/// An RSA-2048 key with a stable key id.
pub struct SigningKey {
    pair: KeyPair,
    kid: String,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh RSA-2048 key (tens of milliseconds with aws-lc).
    pub fn generate() -> Result<Self, SimError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| SimError::Key("RSA key generation failed".into()))?;
        Self::from_pair(pair)
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, SimError> {
        let pair = KeyPair::from_pkcs8(der)
            .map_err(|e| SimError::Key(format!("stored key rejected: {e}")))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: KeyPair) -> Result<Self, SimError> {
        let public = pair.public_key();
        let spki = public
            .as_der()
            .map_err(|_| SimError::Key("cannot encode public key".into()))?;
        // Like the broker's 40-hex-digit certificate thumbprints, derived from the public key
        // so that a persisted key keeps its kid across restarts.
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki.as_ref());
        let kid = hex_upper(&digest.as_ref()[..20]);
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        Ok(Self { pair, kid, n, e })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK for the JWKS document.
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
        })
    }

    fn pkcs8(&self) -> Result<Vec<u8>, SimError> {
        self.pair
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| SimError::Key("cannot encode private key".into()))
    }

    /// Signs `claims` as a compact RS256 JWS. `kid` is normally this key's own id; the
    /// wrong-signature fault passes another key's id.
    pub fn sign_jwt(&self, typ: &str, kid: &str, claims: &Value) -> Result<String, SimError> {
        let header = json!({"alg": "RS256", "kid": kid, "typ": typ});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SimError::Key("signing failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// Loads the key kept in `dir`, or creates and keeps a new one there.
    pub fn load_or_create(dir: &Path) -> Result<Self, SimError> {
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(der) => return Self::from_pkcs8(&der),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(io_err(&path, "reading", source)),
        }
        crate::fsutil::create_private_dir(dir).map_err(|e| io_err(dir, "creating", e))?;
        let key = Self::generate()?;
        crate::fsutil::write_private_atomically(&path, &key.pkcs8()?)
            .map_err(|e| io_err(&path, "writing", e))?;
        tracing::info!(kid = %key.kid, path = %path.display(), "created simulator signing key");
        Ok(key)
    }
}

fn io_err(path: &Path, what: &str, source: std::io::Error) -> SimError {
    SimError::Io {
        what: format!("{what} {}", path.display()),
        source,
    }
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// `n` random bytes as uppercase hex (auth_req_id, request_uri, jti).
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // SystemRandom only fails if the OS has no entropy source; zeros would then be unique
    // enough for a local simulator, and there is nothing better to do.
    let _ = aws_lc_rs::rand::fill(&mut buf);
    hex_upper(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persisted_key_keeps_its_kid_and_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let a = SigningKey::load_or_create(dir.path()).expect("create");
        let b = SigningKey::load_or_create(dir.path()).expect("load");
        assert_eq!(a.kid(), b.kid());
        assert_eq!(a.kid().len(), 40);
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn signature_verifies_with_jsonwebtoken() {
        let key = SigningKey::generate().expect("key");
        let jwt = key
            .sign_jwt(
                "JWT",
                key.kid(),
                &json!({"sub": "x", "exp": 4_000_000_000u64}),
            )
            .expect("sign");
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk()).expect("jwk");
        let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("dk");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.validate_aud = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(&jwt, &dk, &v).expect("verifies");
        assert_eq!(data.claims["sub"], "x");
        assert_eq!(data.header.kid.as_deref(), Some(key.kid()));
    }
}
