//! The client over real sockets against a scripted loopback server: exact
//! request lines and headers, keep-alive, timeouts, refused and dropped
//! connections and observer reports.

use super::super::aspects::{CorpUserInfo, GroupMembership};
use super::super::test_server::{calls, client, seen, serve, Act};
use super::super::{Proposal, Urn};
use super::*;
use serde_json::json;

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
        matches!(r, Err(Error::Unavailable { timeout: true, ref reason, .. }) if reason.contains("timed out")),
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

#[tokio::test]
async fn group_members_many_is_one_aliased_request() {
    let (base, script) = serve(vec![Act::Reply(
        200,
        r#"{"data":{"g0":{"relationships":{"start":0,"count":1,"total":3,"relationships":[{"type":"IsMemberOfGroup","entity":{"urn":"urn:li:corpuser:a"}}]}},"g1":null}}"#.into(),
    )])
    .await;
    let (c, rec) = client(&base);
    let groups = [Urn::corp_group("x"), Urn::corp_group("y")];
    let pages = c
        .group_members_many("t", &groups, 0, 1)
        .await
        .expect("pages");
    assert_eq!(pages.len(), 2);
    assert_eq!((pages[0].count, pages[0].total), (1, 3));
    assert_eq!(pages[0].related[0].urn, Urn::corp_user("a"));
    assert_eq!(
        pages[1],
        crate::datahub::RelatedPage::default(),
        "a null group is empty"
    );
    let body = seen(&script)[0].json();
    assert_eq!(body["operationName"], "groupMembersMany");
    assert_eq!(body["variables"]["u0"], "urn:li:corpGroup:x");
    assert_eq!(body["variables"]["u1"], "urn:li:corpGroup:y");
    assert_eq!(body["variables"]["input"]["direction"], "INCOMING");
    assert_eq!(body["variables"]["input"]["count"], 1);
    assert!(body["query"]
        .as_str()
        .is_some_and(|q| q.contains("g1: corpGroup(urn: $u1)")));
    assert_eq!(calls(&rec), vec![("graphql.groupMembersMany", Outcome::Ok)]);
    // Nothing asked, nothing sent; too many at once is our bug, not a request.
    assert!(c
        .group_members_many("t", &[], 0, 1)
        .await
        .expect("empty")
        .is_empty());
    let many: Vec<Urn> = (0..=crate::datahub::MEMBERS_MANY_MAX)
        .map(|i| Urn::corp_group(&format!("g{i}")))
        .collect();
    assert!(matches!(
        c.group_members_many("t", &many, 0, 1).await,
        Err(Error::Config(_))
    ));
    assert_eq!(seen(&script).len(), 1);
}
