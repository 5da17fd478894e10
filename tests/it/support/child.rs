//! The built `datahub-scim` binary as a child process (plain HTTP, both listeners on
//! 127.0.0.1:0), for what only a real process shows: `kill -9` between two writes,
//! file descriptors, exit codes.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::http::{Req, TestClient, SCIM_JSON_UTF8};

/// A running gateway process.
pub struct Child {
    child: tokio::process::Child,
    /// `http://127.0.0.1:<port>` of the SCIM listener.
    pub base: String,
    /// `http://127.0.0.1:<port>` of the admin listener.
    pub admin: String,
    /// Everything the process wrote to stderr so far (JSON log lines).
    pub log: Arc<Mutex<String>>,
    token: String,
    client: TestClient,
}

impl Child {
    /// Starts the binary against `gms_url` with `extra` settings and waits until it
    /// listens; requests carry `token`.
    pub async fn start(gms_url: &str, token: &str, extra: &[(&str, &str)]) -> Child {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_datahub-scim"));
        cmd.env_clear()
            .env("DATAHUB_GMS_URL", gms_url)
            .env("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "true")
            .env("DATAHUB_SCIM_LISTEN", "127.0.0.1:0")
            .env("DATAHUB_SCIM_ADMIN_LISTEN", "127.0.0.1:0")
            .env("DATAHUB_SCIM_LOG_FORMAT", "json")
            .env("DATAHUB_SCIM_GMS_PROBE_INTERVAL", "1s");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("binary starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = tokio::sync::oneshot::channel::<(String, String)>();
        let sink = log.clone();
        // Drain stderr for the life of the process (a full pipe would block it).
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v["message"] == "datahub-scim listening" {
                        let addr = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                        if let Some(tx) = tx.take() {
                            let _ = tx.send((addr("scim.addr"), addr("admin.addr")));
                        }
                    }
                }
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        let (scim, admin) = tokio::time::timeout(Duration::from_secs(20), rx)
            .await
            .unwrap_or_else(|_| panic!("the gateway did not start: {}", log.lock().expect("log")))
            .expect("the gateway started");
        let c = Child {
            child,
            base: format!("http://{scim}"),
            admin: format!("http://{admin}"),
            log,
            token: token.to_owned(),
            client: TestClient::new(&[]),
        };
        c.wait_ready().await;
        c
    }

    async fn wait_ready(&self) {
        for _ in 0..400 {
            let req = http::Request::builder()
                .uri(format!("{}/ready", self.admin))
                .body(Default::default())
                .expect("request");
            if self
                .client
                .try_send(req)
                .await
                .is_some_and(|r| r.status == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the gateway did not become ready:\n{}",
            self.log.lock().unwrap_or_else(|e| e.into_inner())
        );
    }

    /// A SCIM request to this process, as the IdP sends it.
    pub fn req(&self, method: Method, path: &str, body: Option<&Value>) -> Req {
        Req {
            client: self.client.clone(),
            method,
            url: format!("{}{path}", self.base),
            token: Some(self.token.clone()),
            authorization: None,
            content_type: SCIM_JSON_UTF8.to_owned(),
            body: body.map(|b| Bytes::from(serde_json::to_vec(b).expect("JSON"))),
            headers: Vec::new(),
            expect: None,
        }
    }

    /// `kill -9`: SIGKILL, no shutdown of any kind, then reaps the process.
    pub async fn kill9(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let status = self.child.wait().await.expect("reaped");
        assert!(!status.success(), "killed, not exited: {status}");
    }
}
