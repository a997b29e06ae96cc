//! Shared by the relay tests and the relay load benchmark: certificates made with rcgen,
//! a throw-away redis-server on a free loopback port, and relay processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mitid_flex_tv::ciba::{ClientAuth, ClientConfig, ClientSecret, Dialect, HintEncoding};
use mitid_flex_tv::relay_client::{RelayBackend, RelayClientConfig};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// 32 zero bytes, base64: a fixed seal key for tests (never for production).
pub const TEST_SEAL_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// A CA on disk that can issue server and box certificates.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub cert_path: PathBuf,
    dir: PathBuf,
}

impl Ca {
    pub fn new(dir: &Path, name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("CA");
        let cert_path = dir.join(format!("{name}.crt"));
        std::fs::write(&cert_path, cert.pem()).expect("write CA");
        Ca {
            issuer: Issuer::new(params, key),
            cert_path,
            dir: dir.to_path_buf(),
        }
    }

    fn issue(&self, cn: &str, sans: Vec<String>, server: bool) -> (PathBuf, PathBuf) {
        let mut params = CertificateParams::new(sans).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let crt = self.dir.join(format!("{cn}.crt"));
        let pem_key = self.dir.join(format!("{cn}.key"));
        std::fs::write(&crt, cert.pem()).expect("write cert");
        std::fs::write(&pem_key, key.serialize_pem()).expect("write key");
        (crt, pem_key)
    }

    /// The relay's certificate for 127.0.0.1 and localhost.
    pub fn server(&self) -> (PathBuf, PathBuf) {
        self.issue(
            "relay-server",
            vec!["localhost".into(), "127.0.0.1".into()],
            true,
        )
    }

    /// A box certificate whose common name is the box ID.
    pub fn box_cert(&self, box_id: &str) -> (PathBuf, PathBuf) {
        self.issue(box_id, vec![], false)
    }
}

/// The operator's PKI of a test: box CA, server CA, relay certificate.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub boxes: Ca,
    pub servers: Ca,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let boxes = Ca::new(dir.path(), "box-ca");
        let servers = Ca::new(dir.path(), "server-ca");
        let (server_cert, server_key) = servers.server();
        Pki {
            dir,
            boxes,
            servers,
            server_cert,
            server_key,
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(addr: SocketAddr, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A redis-server with no persistence on a free loopback port; killed on drop.
pub struct Redis {
    child: Child,
    pub url: String,
}

impl Redis {
    pub fn start() -> Redis {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server; .ci/system-deps installs it)");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        assert!(
            wait_for_port(addr, Duration::from_secs(10)),
            "redis-server did not listen"
        );
        Redis {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a relay instance is started with.
#[derive(Clone)]
pub struct RelayOptions {
    pub issuer: String,
    pub redis_url: Option<String>,
    pub deny_list: Option<PathBuf>,
    pub webhook_url: Option<String>,
    /// `[limits]` TOML lines.
    pub limits: String,
    pub binary: PathBuf,
}

/// A running `mitid-flex-relay` process; killed on drop. Its stderr is kept for assertions.
pub struct RelayProc {
    pub child: Child,
    pub url: String,
    pub metrics_url: String,
    pub log: Arc<Mutex<String>>,
    pub config: PathBuf,
    terminated: std::sync::atomic::AtomicBool,
}

pub const WEBHOOK_KEY: &str = "test-webhook-key";

impl RelayProc {
    pub fn start(pki: &Pki, o: &RelayOptions) -> RelayProc {
        let port = free_port();
        let metrics_port = free_port();
        let mut toml = format!(
            "listen = \"127.0.0.1:{port}\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n\
             tls_cert = {:?}\ntls_key = {:?}\nclient_ca = {:?}\n",
            pki.server_cert, pki.server_key, pki.boxes.cert_path
        );
        if let Some(r) = &o.redis_url {
            toml.push_str(&format!("redis_url = {r:?}\n"));
        }
        if let Some(d) = &o.deny_list {
            toml.push_str(&format!("deny_list = {d:?}\n"));
        }
        toml.push_str(&format!("[limits]\n{}\n", o.limits));
        if let Some(w) = &o.webhook_url {
            toml.push_str(&format!("[webhook]\nurl = {w:?}\nmax_attempts = 3\n"));
        }
        toml.push_str(&format!(
            "[broker]\nprofile = \"simulator\"\nissuer = {:?}\nservice_name = \"Relay-TV\"\n",
            o.issuer
        ));
        let config = pki.dir.path().join(format!("relay-{port}.toml"));
        std::fs::write(&config, toml).expect("write relay config");
        let mut child = Command::new(&o.binary)
            .arg("--config")
            .arg(&config)
            .env("MITID_FLEX_RELAY_SEAL_KEY", TEST_SEAL_KEY)
            .env("MITID_FLEX_RELAY_WEBHOOK_KEY", WEBHOOK_KEY)
            .env("RUST_LOG", "info")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("MITID_FLEX_TV_CLIENT_SECRET")
            .env_remove("JOURNAL_STREAM")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mitid-flex-relay");
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                    // Bounded: a long load run keeps the last megabyte.
                    if l.len() > 1 << 20 {
                        l.clear();
                    }
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        if !wait_for_port(addr, Duration::from_secs(20)) {
            let _ = child.kill();
            panic!(
                "relay did not listen; its log:\n{}",
                log.lock().unwrap_or_else(|p| p.into_inner())
            );
        }
        RelayProc {
            child,
            url: format!("https://127.0.0.1:{port}"),
            metrics_url: format!("http://127.0.0.1:{metrics_port}"),
            log,
            config,
            terminated: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the relay logs `needle` within 10 s: its stderr reaches the log through a
    /// reader thread, so a line written just before an answer may land just after it.
    pub async fn logs(&self, needle: &str) -> bool {
        for _ in 0..200 {
            if self.log().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub fn signal(&self, sig: libc::c_int) {
        if sig == libc::SIGTERM {
            self.terminated
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid with a valid signal number.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

impl Drop for RelayProc {
    fn drop(&mut self) {
        // After a SIGTERM, give the instance its drain time before killing it.
        let until = Instant::now() + Duration::from_secs(12);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            if self.terminated.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            } else {
                break;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The broker part a box knows: issuer and client_id, both public; no secret.
pub fn broker_for_box(issuer: &str) -> ClientConfig {
    ClientConfig {
        issuer: issuer.to_string(),
        client_id: mitid_flex_tv::sim::PP_DEMO_CLIENT_ID.to_string(),
        client_secret: ClientSecret::new(""),
        auth: ClientAuth::ClientSecretPost,
        scope: "openid mitid".into(),
        dialect: Dialect::Signaturgruppen,
        hint_encoding: HintEncoding::Json,
        request_timeout: Duration::from_secs(10),
    }
}

/// A box: its own certificate, the relay URLs, the broker's public facts.
pub fn box_backend(pki: &Pki, box_id: &str, urls: &[&str], issuer: &str) -> RelayBackend {
    let (cert, key) = pki.boxes.box_cert(box_id);
    box_backend_with(pki, cert, key, urls, issuer)
}

pub fn box_backend_with(
    pki: &Pki,
    cert: PathBuf,
    key: PathBuf,
    urls: &[&str],
    issuer: &str,
) -> RelayBackend {
    let cfg = RelayClientConfig {
        urls: urls.iter().map(|u| u.to_string()).collect(),
        cert,
        key,
        ca: Some(pki.servers.cert_path.clone()),
        request_timeout: Duration::from_secs(10),
    };
    RelayBackend::new(&cfg, broker_for_box(issuer)).expect("relay backend")
}
