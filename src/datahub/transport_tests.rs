//! The client over real sockets against a scripted loopback server: exact
//! request lines and headers, keep-alive, timeouts, refused and dropped
//! connections, observer reports, and the read-modify-write retry loop.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::super::aspects::{CorpUserInfo, GroupMembership};
use super::super::{Proposal, RmwReport, Urn};
use super::*;
use serde_json::{json, Value};

/// What the scripted server does with the next request.
enum Act {
    Reply(u16, String),
    /// Read the request, never answer.
    Stall,
    /// Read the request, close the connection.
    Close,
}

/// A request as received: request line + lower-cased headers, and body.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: String,
    conn: usize,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

#[derive(Default)]
struct Script {
    acts: Mutex<VecDeque<Act>>,
    seen: Mutex<Vec<Seen>>,
}

async fn serve(acts: Vec<Act>) -> (String, Arc<Script>) {
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
struct Recorder {
    calls: Mutex<Vec<(&'static str, Outcome)>>,
    retries: Mutex<Vec<&'static str>>,
}

impl Observer for Recorder {
    fn upstream_call(&self, endpoint: &'static str, outcome: Outcome, _elapsed: Duration) {
        self.calls.lock().expect("lock").push((endpoint, outcome));
    }
    fn conflict_retry(&self, endpoint: &'static str) {
        self.retries.lock().expect("lock").push(endpoint);
    }
}

fn client(base: &str) -> (Client, Arc<Recorder>) {
    let mut cfg = ClientConfig::new(base);
    cfg.connect_timeout = Duration::from_millis(500);
    cfg.request_timeout = Duration::from_millis(500);
    let rec = Arc::new(Recorder::default());
    let c = Client::new(cfg).expect("client").with_observer(rec.clone());
    (c, rec)
}

fn seen(s: &Script) -> Vec<Seen> {
    s.seen.lock().expect("lock").clone()
}

fn calls(r: &Recorder) -> Vec<(&'static str, Outcome)> {
    r.calls.lock().expect("lock").clone()
}

const INFO: &str = r#"{"aspect":{"com.linkedin.identity.CorpUserInfo":{"active":true,"displayName":"J\u00f6"}},"version":0}"#;

#[tokio::test]
async fn get_aspect_sends_encoded_path_and_headers_over_one_connection() {
    let (base, script) = serve(vec![
        Act::Reply(200, INFO.into()),
        Act::Reply(404, r#"{"status":404}"#.into()),
    ])
    .await;
    let (c, rec) = client(&format!("{base}/"));
    let urn = Urn::corp_user("jö doe,(x)/+%");
    let got = c
        .get_aspect::<CorpUserInfo>("tok-1", &urn)
        .await
        .expect("ok")
        .expect("present");
    assert_eq!(got.value.display_name.as_deref(), Some("Jö"));
    assert_eq!(got.version, None);
    let absent = c.key_exists("tok-1", &urn).await.expect("ok");
    assert!(!absent);

    let s = seen(&script);
    assert_eq!(
        s[0].line,
        "GET /aspects/urn%3Ali%3Acorpuser%3Aj%C3%B6%20doe%2C%28x%29%2F%2B%25?aspect=corpUserInfo&version=0 HTTP/1.1"
    );
    assert_eq!(s[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(s[0].header("x-restli-protocol-version"), Some("2.0.0"));
    assert_eq!(s[0].header("accept"), Some("application/json"));
    assert!(s[1].line.starts_with("GET /aspects/urn%3Ali%3Acorpuser%3A"));
    assert!(s[1].line.contains("?aspect=corpUserKey&version=0 "));
    assert_eq!(s[0].conn, s[1].conn, "keep-alive reuses the connection");
    assert_eq!(
        calls(&rec),
        vec![
            ("restli.getAspect", Outcome::Ok),
            ("restli.keyExists", Outcome::NotFound)
        ]
    );
}

#[tokio::test]
async fn ingest_posts_the_batch() {
    let (base, script) = serve(vec![Act::Reply(200, r#"{"value":"success"}"#.into())]).await;
    let (c, _) = client(&base);
    let urn = Urn::corp_user("u");
    let p = Proposal::upsert(&urn, &GroupMembership::default())
        .expect("p")
        .if_absent();
    c.ingest("t", &[p]).await.expect("ingest");
    c.ingest("t", &[]).await.expect("empty batch sends nothing");
    let s = seen(&script);
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].line,
        "POST /aspects?action=ingestProposalBatch HTTP/1.1"
    );
    assert_eq!(s[0].header("content-type"), Some("application/json"));
    assert_eq!(s[0].header("x-restli-protocol-version"), Some("2.0.0"));
    let body = s[0].json();
    assert_eq!(body["async"], "false");
    assert_eq!(body["proposals"][0]["headers"]["If-Version-Match"], "-1");
    assert_eq!(body["proposals"][0]["aspect"]["value"], r#"{"groups":[]}"#);
}

#[tokio::test]
async fn exists_delete_and_batch_get_requests() {
    let (base, script) = serve(vec![
        Act::Reply(200, r#"{"value":true}"#.into()),
        Act::Reply(
            200,
            r#"{"value":{"urn":"urn:li:corpGroup:g","rows":3}}"#.into(),
        ),
        Act::Reply(200, r#"{"results":{},"statuses":{},"errors":{}}"#.into()),
    ])
    .await;
    let (c, _) = client(&base);
    let g = Urn::corp_group("g");
    assert!(c.exists("t", &g, false).await.expect("exists"));
    c.hard_delete("t", &g).await.expect("delete");
    let got = c
        .batch_get("t", std::slice::from_ref(&g), &["corpGroupInfo"])
        .await
        .expect("batch");
    assert_eq!(got.len(), 1);
    assert!(!got[0].has_data());
    let s = seen(&script);
    assert_eq!(s[0].line, "POST /entities?action=exists HTTP/1.1");
    assert_eq!(
        s[0].json(),
        json!({"urn": "urn:li:corpGroup:g", "includeSoftDelete": false})
    );
    assert_eq!(s[1].line, "POST /entities?action=delete HTTP/1.1");
    assert_eq!(s[1].json(), json!({"urn": "urn:li:corpGroup:g"}));
    assert_eq!(
        s[2].line,
        "GET /entitiesV2?ids=List(urn%3Ali%3AcorpGroup%3Ag)&aspects=List(corpGroupInfo) HTTP/1.1"
    );
}

#[tokio::test]
async fn graphql_me_and_error_in_200() {
    let (base, script) = serve(vec![
        Act::Reply(
            200,
            r#"{"data":{"me":{"corpUser":{"urn":"urn:li:corpuser:bot"},"platformPrivileges":{"manageIdentities":true}}}}"#.into(),
        ),
        Act::Reply(
            200,
            r#"{"data":{"listGroups":null},"errors":[{"message":"Unauthorized","extensions":{"code":403,"type":"UNAUTHORIZED"}}]}"#.into(),
        ),
        Act::Reply(401, String::new()),
    ])
    .await;
    let (c, rec) = client(&base);
    let me = c.me("t").await.expect("me");
    assert_eq!(me.urn, Urn::corp_user("bot"));
    assert!(me.manage_identities);
    assert!(matches!(
        c.list_groups("t", 0, 10).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        c.list_users("bad", 0, 10).await,
        Err(Error::Unauthorized)
    ));
    let s = seen(&script);
    assert_eq!(s[0].line, "POST /api/graphql HTTP/1.1");
    assert_eq!(s[0].header("x-restli-protocol-version"), None);
    let body = s[0].json();
    assert_eq!(body["operationName"], "me");
    assert_eq!(body["query"], super::super::documents::ME);
    assert_eq!(
        s[1].json()["variables"],
        json!({"input": {"start": 0, "count": 10}})
    );
    assert_eq!(
        calls(&rec),
        vec![
            ("graphql.me", Outcome::Ok),
            ("graphql.listGroups", Outcome::Forbidden),
            ("graphql.listUsers", Outcome::Unauthorized)
        ]
    );
}

#[tokio::test]
async fn config_and_health_need_no_token() {
    let (base, script) = serve(vec![
        Act::Reply(
            200,
            r#"{"versions":{"acryldata/datahub":{"version":"v1.7.0"}}}"#.into(),
        ),
        Act::Reply(200, "".into()),
        Act::Reply(503, "".into()),
    ])
    .await;
    let (c, _) = client(&base);
    assert_eq!(
        c.server_config().await.expect("config").version.as_deref(),
        Some("v1.7.0")
    );
    c.health().await.expect("healthy");
    assert!(matches!(c.health().await, Err(Error::Unavailable { .. })));
    let s = seen(&script);
    assert_eq!(s[0].line, "GET /config HTTP/1.1");
    assert_eq!(s[1].line, "GET /health HTTP/1.1");
    assert!(s.iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let (base, _script) = serve(vec![Act::Stall]).await;
    let (c, rec) = client(&base);
    let started = Instant::now();
    let r = c.key_exists("t", &Urn::corp_user("u")).await;
    assert!(
        matches!(r, Err(Error::Unavailable { ref reason, .. }) if reason.contains("timed out")),
        "{r:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(calls(&rec), vec![("restli.keyExists", Outcome::Timeout)]);
}

#[tokio::test]
async fn refused_and_dropped_connections_are_unavailable() {
    // A port with nobody listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (c, rec) = client(&format!("http://127.0.0.1:{port}"));
    let r = c.health().await;
    assert!(matches!(r, Err(Error::Unavailable { .. })), "{r:?}");
    assert_eq!(calls(&rec), vec![("gms.health", Outcome::ConnectError)]);

    let (base, _script) = serve(vec![Act::Close]).await;
    let (c, rec) = client(&base);
    let r = c.me("t").await;
    assert!(matches!(r, Err(Error::Unavailable { .. })), "{r:?}");
    assert_eq!(calls(&rec), vec![("graphql.me", Outcome::ConnectError)]);
}

#[tokio::test]
async fn tokens_that_are_not_header_values_are_refused_locally() {
    let (base, script) = serve(vec![]).await;
    let (c, _) = client(&base);
    let r = c.me("bad\ntoken").await;
    assert!(
        matches!(r, Err(Error::Invalid(ref m)) if !m.contains("bad")),
        "{r:?}"
    );
    assert!(seen(&script).is_empty());
}

#[test]
fn config_errors() {
    for bad in ["", "gms:8080", "ftp://gms", "http://gms:8080/?x=1"] {
        assert!(
            matches!(Client::new(ClientConfig::new(bad)), Err(Error::Config(_))),
            "{bad}"
        );
    }
    let mut cfg = ClientConfig::new("https://gms.example");
    cfg.ca_bundle = Some(PathBuf::from("/nonexistent/ca.pem"));
    assert!(matches!(Client::new(cfg), Err(Error::Config(_))));
}

#[test]
fn extra_ca_bundle_is_loaded() {
    let ca = rcgen::generate_simple_self_signed(vec!["gms.test".into()]).expect("cert");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, ca.cert.pem()).expect("write");
    let mut cfg = ClientConfig::new("https://gms.test:8443/prefix/");
    cfg.ca_bundle = Some(path.clone());
    let c = Client::new(cfg).expect("client with extra CA");
    assert_eq!(c.base_url(), "https://gms.test:8443/prefix");
    std::fs::write(&path, "not a pem").expect("write");
    let mut cfg = ClientConfig::new("https://gms.test");
    cfg.ca_bundle = Some(path);
    assert!(matches!(Client::new(cfg), Err(Error::Config(_))));
}

const PRECONDITION: &str = r#"{"status":422,"message":"com.linkedin.metadata.aspect.plugins.validation.AspectValidationException: Expected version 1, actual version 2"}"#;

fn membership_batch(version: &str) -> String {
    json!({"results": {"urn:li:corpuser:u": {"urn": "urn:li:corpuser:u", "aspects": {
        "groupMembership": {"value": {"groups": []}, "systemMetadata": {"version": version}}}}}})
    .to_string()
}

#[tokio::test]
async fn read_modify_write_retries_a_lost_race() {
    let (base, script) = serve(vec![
        Act::Reply(200, membership_batch("1")),
        Act::Reply(422, PRECONDITION.into()),
        Act::Reply(200, membership_batch("2")),
        Act::Reply(200, r#"{"value":"success"}"#.into()),
    ])
    .await;
    let (c, rec) = client(&base);
    let u = Urn::corp_user("u");
    let mut rounds = 0;
    let report = c
        .read_modify_write(
            "t",
            std::slice::from_ref(&u),
            &["groupMembership"],
            3,
            |es| {
                rounds += 1;
                let mut gm = es[0]
                    .get::<GroupMembership>()?
                    .map(|v| v.value)
                    .unwrap_or_default();
                gm.groups.push(Urn::corp_group("eng"));
                Ok::<_, Error>(vec![
                    Proposal::upsert(&es[0].urn, &gm)?.conditional_on(&es[0])
                ])
            },
        )
        .await
        .expect("rmw");
    assert_eq!(
        report,
        RmwReport {
            attempts: 2,
            written: 1
        }
    );
    assert_eq!(rounds, 2);
    let s = seen(&script);
    assert_eq!(
        s[1].json()["proposals"][0]["headers"]["If-Version-Match"],
        "1"
    );
    assert_eq!(
        s[3].json()["proposals"][0]["headers"]["If-Version-Match"],
        "2"
    );
    assert_eq!(
        s[3].json()["proposals"][0]["aspect"]["value"],
        r#"{"groups":["urn:li:corpGroup:eng"]}"#
    );
    assert_eq!(
        *rec.retries.lock().expect("lock"),
        vec!["restli.ingestProposalBatch"]
    );
    assert!(calls(&rec).contains(&("restli.ingestProposalBatch", Outcome::Conflict)));
}

#[tokio::test]
async fn read_modify_write_gives_up_after_max_attempts() {
    let (base, script) = serve(vec![
        Act::Reply(200, membership_batch("1")),
        Act::Reply(422, PRECONDITION.into()),
        Act::Reply(200, membership_batch("2")),
        Act::Reply(422, PRECONDITION.into()),
    ])
    .await;
    let (c, rec) = client(&base);
    let u = Urn::corp_user("u");
    let r = c
        .read_modify_write("t", &[u], &["groupMembership"], 2, |es| {
            Ok::<_, Error>(vec![Proposal::upsert(
                &es[0].urn,
                &GroupMembership::default(),
            )?
            .conditional_on(&es[0])])
        })
        .await;
    assert!(
        matches!(r, Err(Error::RetriesExhausted { attempts: 2 })),
        "{r:?}"
    );
    assert_eq!(seen(&script).len(), 4);
    assert_eq!(rec.retries.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn read_modify_write_with_nothing_to_change_does_not_write() {
    let (base, script) = serve(vec![Act::Reply(200, membership_batch("5"))]).await;
    let (c, _) = client(&base);
    let report = c
        .read_modify_write("t", &[Urn::corp_user("u")], &["groupMembership"], 3, |_| {
            Ok::<_, Error>(vec![])
        })
        .await
        .expect("rmw");
    assert_eq!(
        report,
        RmwReport {
            attempts: 1,
            written: 0
        }
    );
    assert_eq!(seen(&script).len(), 1);
}
