//! A CIBA OP that misbehaves on purpose: a plain HTTP/1.1 server on a loopback port, written
//! at the byte level so it can send what no framework would (200 MB bodies, hangs, escape
//! sequences, nonsense numbers). By default it behaves like the broker and signs real ID
//! tokens; each test overrides the answers of the endpoints it attacks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mitid_flex_tv::config::PP_DEMO_CLIENT_ID;
use mitid_flex_tv::sim::SigningKey;
use mitid_flex_tv::sim::hint::{Hint, parse_login_hint_token};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

pub const UUID: &str = "8a9856e0-f12d-4217-b320-c8a076be9320";
pub const AUTH_REQ_ID: &str = "hostile-req-1";

/// One answer of the OP.
#[derive(Clone)]
pub enum Reply {
    Json(u16, Value),
    Raw(u16, Vec<u8>),
    /// `len` bytes of JSON-looking filler, with or without a `Content-Length`.
    Huge {
        len: usize,
        declared: bool,
    },
    /// Accept the request and never answer.
    Hang,
    /// Answer after a pause.
    Delayed(Duration, Box<Reply>),
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
}

/// The request as the OP saw it, for overrides to decide on.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a str,
}

type Override = dyn Fn(&Op, &Request<'_>) -> Option<Reply> + Send + Sync;

pub struct Op {
    pub issuer: String,
    key: SigningKey,
    seen: Mutex<Vec<Seen>>,
    /// The `ciba_nonce` of the last login hint; the normal ID token echoes it.
    nonce: Mutex<Option<String>>,
    arrived: Notify,
    behave: Box<Override>,
}

impl Op {
    /// Starts the OP; `behave` answers what it wants to attack and returns `None` for the
    /// broker's normal answer.
    pub async fn start(
        behave: impl Fn(&Op, &Request<'_>) -> Option<Reply> + Send + Sync + 'static,
    ) -> Arc<Op> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let op = Arc::new(Op {
            issuer: format!("http://{addr}/op"),
            key: SigningKey::generate().unwrap(),
            seen: Mutex::new(Vec::new()),
            nonce: Mutex::new(None),
            arrived: Notify::new(),
            behave: Box::new(behave),
        });
        let server = Arc::clone(&op);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let op = Arc::clone(&server);
                tokio::spawn(async move { op.serve(stream).await });
            }
        });
        op
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str, path_start: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path.starts_with(path_start))
            .count()
    }

    /// Waits until a request whose path ends with `suffix` has arrived.
    pub async fn wait_for(&self, suffix: &str) {
        loop {
            let notified = self.arrived.notified();
            if self.seen().iter().any(|s| s.path.ends_with(suffix)) {
                return;
            }
            tokio::time::timeout(Duration::from_secs(30), notified)
                .await
                .expect("the client never sent that request");
        }
    }

    pub fn discovery(&self) -> Value {
        let i = &self.issuer;
        json!({
            "issuer": i,
            "token_endpoint": format!("{i}/connect/token"),
            "jwks_uri": format!("{i}/jwks"),
            "backchannel_authentication_endpoint": format!("{i}/connect/ciba"),
            "userinfo_endpoint": format!("{i}/connect/userinfo"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "backchannel_token_delivery_modes_supported": ["poll"],
        })
    }

    pub fn claims(&self) -> Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        json!({
            "iss": self.issuer, "aud": PP_DEMO_CLIENT_ID, "sub": "hostile-sub",
            "iat": now, "nbf": now, "exp": now + 300, "idp": "mitid", "idtoken_type": "ciba",
            "mitid.uuid": UUID, "mitid.identity_name": "Ileya Jensen",
            "mitid.date_of_birth": "1936-04-08", "mitid.age": "90",
            "ciba_nonce": *self.nonce.lock().unwrap(),
        })
    }

    /// A token response with an ID token over `claims` under `header`.
    pub fn tokens_with(&self, header: Value, claims: Value) -> Reply {
        let id_token = self.key.sign_with_header(&header, &claims).unwrap();
        Reply::Json(200, json!({"id_token": id_token, "token_type": "Bearer"}))
    }

    pub fn tokens(&self, claims: Value) -> Reply {
        self.tokens_with(json!({"alg": "RS256", "kid": self.key.kid()}), claims)
    }

    fn normal(&self, r: &Request<'_>) -> Reply {
        let path = r.path.strip_prefix("/op").unwrap_or(r.path);
        match (r.method, path) {
            ("GET", "/.well-known/openid-configuration") => Reply::Json(200, self.discovery()),
            ("GET", "/jwks") => Reply::Json(200, json!({"keys": [self.key.jwk()]})),
            ("POST", "/connect/ciba") => {
                self.remember_nonce(r.body);
                Reply::Json(
                    200,
                    json!({"auth_req_id": AUTH_REQ_ID, "expires_in": 60, "interval": 1}),
                )
            }
            ("POST", "/connect/token") => self.tokens(self.claims()),
            ("DELETE", _) => Reply::Raw(200, Vec::new()),
            _ => Reply::Json(404, json!({"error": "not_found"})),
        }
    }

    fn remember_nonce(&self, form: &str) {
        let hint = url::form_urlencoded::parse(form.as_bytes())
            .find(|(k, _)| k == "login_hint_token")
            .map(|(_, v)| v.to_string());
        if let Some(Ok(Hint::Flex(f))) = hint.map(|h| parse_login_hint_token(&h)) {
            *self.nonce.lock().unwrap() = f.ciba_nonce;
        }
    }

    async fn serve(&self, mut stream: TcpStream) {
        let Some((method, path, body)) = read_request(&mut stream).await else {
            return;
        };
        let reply = {
            let r = Request {
                method: &method,
                path: &path,
                body: &body,
            };
            (self.behave)(self, &r).unwrap_or_else(|| self.normal(&r))
        };
        self.seen.lock().unwrap().push(Seen { method, path });
        self.arrived.notify_waiters();
        let _ = write_reply(&mut stream, reply).await;
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let len: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((method, path, String::from_utf8_lossy(&body).to_string()))
}

async fn write_reply(stream: &mut TcpStream, mut reply: Reply) -> std::io::Result<()> {
    while let Reply::Delayed(pause, then) = reply {
        tokio::time::sleep(pause).await;
        reply = *then;
    }
    let head = |status: u16, len: Option<usize>| {
        let length = match len {
            Some(n) => format!("Content-Length: {n}\r\n"),
            None => "Transfer-Encoding: chunked\r\n".to_string(),
        };
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
        )
    };
    match reply {
        Reply::Json(status, v) => {
            let body = v.to_string();
            stream
                .write_all(head(status, Some(body.len())).as_bytes())
                .await?;
            stream.write_all(body.as_bytes()).await?;
        }
        Reply::Raw(status, body) => {
            stream
                .write_all(head(status, Some(body.len())).as_bytes())
                .await?;
            stream.write_all(&body).await?;
        }
        Reply::Huge { len, declared } => {
            stream
                .write_all(head(200, declared.then_some(len)).as_bytes())
                .await?;
            let block = vec![b'x'; 64 * 1024];
            let mut left = len;
            if !declared {
                stream.write_all(b"1\r\n{\r\n").await?;
            }
            while left > 0 {
                let n = left.min(block.len());
                if declared {
                    stream.write_all(&block[..n]).await?;
                } else {
                    stream.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    stream.write_all(&block[..n]).await?;
                    stream.write_all(b"\r\n").await?;
                }
                left -= n;
            }
            if !declared {
                stream.write_all(b"0\r\n\r\n").await?;
            }
        }
        Reply::Hang | Reply::Delayed(..) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
    stream.flush().await
}
