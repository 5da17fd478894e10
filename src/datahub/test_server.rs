//! Test support: a scripted HTTP/1.1 server on 127.0.0.1:0 that records the
//! requests it receives and answers, stalls or hangs up as told, and an
//! [`Observer`] that records reports. Used to test the transport and the
//! read-modify-write loop over real sockets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Client, ClientConfig, Observer, Outcome};

/// What the scripted server does with the next request.
pub(crate) enum Act {
    Reply(u16, String),
    /// Read the request, never answer.
    Stall,
    /// Read the request, close the connection.
    Close,
}

/// A request as received: request line + lower-cased headers, and body.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub conn: usize,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

#[derive(Default)]
pub(crate) struct Script {
    acts: Mutex<VecDeque<Act>>,
    seen: Mutex<Vec<Seen>>,
}

pub(crate) async fn serve(acts: Vec<Act>) -> (String, Arc<Script>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let script = Arc::new(Script {
        acts: Mutex::new(acts.into()),
        seen: Mutex::new(Vec::new()),
    });
    let s = script.clone();
    tokio::spawn(async move {
        let mut conn = 0;
        while let Ok((sock, _)) = listener.accept().await {
            conn += 1;
            tokio::spawn(connection(sock, conn, s.clone()));
        }
    });
    (format!("http://{addr}"), script)
}

async fn connection(mut sock: TcpStream, conn: usize, script: Arc<Script>) {
    let mut buf = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
        buf.drain(..head_end + len);
        script.seen.lock().expect("lock").push(Seen {
            line,
            headers,
            body,
            conn,
        });
        let act = script.acts.lock().expect("lock").pop_front();
        match act {
            Some(Act::Reply(status, body)) => {
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if sock.write_all(resp.as_bytes()).await.is_err() {
                    return;
                }
            }
            Some(Act::Stall) => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
            Some(Act::Close) | None => return,
        }
    }
}

#[derive(Default)]
pub(crate) struct Recorder {
    pub calls: Mutex<Vec<(&'static str, Outcome)>>,
    pub retries: Mutex<Vec<&'static str>>,
    pub exhausted: Mutex<Vec<&'static str>>,
}

impl Observer for Recorder {
    fn upstream_call(&self, endpoint: &'static str, outcome: Outcome, _elapsed: Duration) {
        self.calls.lock().expect("lock").push((endpoint, outcome));
    }
    fn conflict_retry(&self, endpoint: &'static str) {
        self.retries.lock().expect("lock").push(endpoint);
    }
    fn conflict_exhausted(&self, endpoint: &'static str) {
        self.exhausted.lock().expect("lock").push(endpoint);
    }
}

pub(crate) fn client(base: &str) -> (Client, Arc<Recorder>) {
    let mut cfg = ClientConfig::new(base);
    cfg.connect_timeout = Duration::from_millis(500);
    cfg.request_timeout = Duration::from_millis(500);
    let rec = Arc::new(Recorder::default());
    let c = Client::new(cfg).expect("client").with_observer(rec.clone());
    // As after a readiness probe: scripted servers answer only the calls a test lists.
    c.set_release(super::Release::parse("v1.7.0"));
    (c, rec)
}

pub(crate) fn seen(s: &Script) -> Vec<Seen> {
    s.seen.lock().expect("lock").clone()
}

pub(crate) fn calls(r: &Recorder) -> Vec<(&'static str, Outcome)> {
    r.calls.lock().expect("lock").clone()
}
