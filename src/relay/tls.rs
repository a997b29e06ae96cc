//! Box identity by mutual TLS (RFC 8446 §4.4.2): only a certificate from the operator's box
//! CA completes the handshake, and its subject common name is the box ID in limits and logs.
//! A deny list of box IDs, reloaded on SIGHUP, refuses boxes whose certificate is still
//! valid (a stolen or retired box).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto};

/// Longest box ID we accept.
pub const MAX_BOX_ID: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {detail}")]
    File { path: PathBuf, detail: String },
    #[error("TLS setup: {0}")]
    Setup(String),
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// The server side: our certificate, and client certificates required from `client_ca`.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: &Path,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for c in certs(client_ca)? {
        roots.add(c).map_err(|e| file_err(client_ca, e))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, e))?;
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(cert)?, key)
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The box ID: the end-entity certificate's subject CN, if it is a plain, short name
/// (letters, digits, `-`, `_`, `.`), so it is safe in keys and log lines as it is.
pub fn box_id(end_entity: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(end_entity.as_ref()).ok()?;
    let cn = cert.subject().iter_common_name().next()?.as_str().ok()?;
    let ok = !cn.is_empty()
        && cn.len() <= MAX_BOX_ID
        && cn
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| cn.to_string())
}

/// Refused box IDs. Cheap to read on every request; replaced whole on reload.
#[derive(Default)]
pub struct DenyList {
    path: Option<PathBuf>,
    ids: RwLock<Arc<HashSet<String>>>,
}

impl DenyList {
    pub fn load(path: Option<PathBuf>) -> Result<Self, TlsError> {
        let list = Self {
            path,
            ids: RwLock::default(),
        };
        list.reload()?;
        Ok(list)
    }

    /// Reads the file again (one ID a line, `#` comments). On error the old list stays.
    pub fn reload(&self) -> Result<usize, TlsError> {
        let Some(path) = &self.path else {
            return Ok(0);
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
        let ids: HashSet<String> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let n = ids.len();
        *self.ids.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ids);
        Ok(n)
    }

    pub fn is_denied(&self, box_id: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(box_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with_cn(cn: &str) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn box_id_is_the_common_name_when_plain() {
        assert_eq!(
            box_id(&cert_with_cn("box-0042")).as_deref(),
            Some("box-0042")
        );
        assert_eq!(box_id(&cert_with_cn("box 42\n")), None);
        assert_eq!(box_id(&cert_with_cn(&"b".repeat(65))), None);
        assert_eq!(box_id(&CertificateDer::from(vec![1u8, 2, 3])), None);
    }

    #[test]
    fn deny_list_reloads_and_keeps_the_old_list_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deny");
        std::fs::write(&path, "# retired\nbox-1\n\n  box-2  # stolen\n").unwrap();
        let d = DenyList::load(Some(path.clone())).unwrap();
        assert!(d.is_denied("box-1") && d.is_denied("box-2") && !d.is_denied("box-3"));
        std::fs::write(&path, "box-3\n").unwrap();
        assert_eq!(d.reload().unwrap(), 1);
        assert!(!d.is_denied("box-1") && d.is_denied("box-3"));
        std::fs::remove_file(&path).unwrap();
        assert!(d.reload().is_err());
        assert!(d.is_denied("box-3"));
    }
}
