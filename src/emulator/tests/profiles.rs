//! Release profiles: `/config` names the release (Q10), unknown release numbers are
//! refused, and the behaviours that changed between 0.15.0 and 1.7.0 outside search:
//! the sync-index MCP header (Q9), the token's actor check (#13947) and `listUsers`'
//! access check (#15448).

use super::*;
use std::time::Duration;

#[tokio::test]
async fn config_reports_the_release_tag() {
    for (v, tag) in [
        ("1.7.0", "v1.7.0"),
        ("0.15.0", "v0.15.0"),
        ("v1.3.1", "v1.3.1"),
    ] {
        let emu = start_release(v).await;
        let (s, b) = call(&emu, None, "GET", "/config", None).await;
        assert_eq!(s, 200);
        assert_eq!(b["versions"]["acryldata/datahub"]["version"], tag);
        assert_eq!(b["noCode"], "true");
        assert_eq!(b["patchCapable"], true);
        assert!(b["versions"]["acryldata/datahub"]["commit"].is_string());
    }
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cfg = EmulatorConfig {
        datahub_version: "latest".into(),
        ..EmulatorConfig::default()
    };
    assert!(Emulator::start(cfg, l).await.is_err());
}

#[tokio::test]
async fn the_sync_index_header_counts_from_1_0_and_app_source_ui_always() {
    const LIST: &str = "query { listUsers(input: {start: 0, count: 10}) { total users { urn } } }";
    for (version, header_syncs) in [("0.15.0", false), ("1.0.0", true), ("1.7.0", true)] {
        let emu = start_release(version).await;
        let t = emu.admin_token();
        emu.set_index_lag(Duration::from_secs(60));
        let mut a = mcp(
            "urn:li:corpuser:hdr",
            "corpUserInfo",
            json!({"active": true}),
        );
        a["headers"] = json!({"X-DataHub-Sync-Index-Update": "TRUE"});
        let mut b = mcp(
            "urn:li:corpuser:ui",
            "corpUserInfo",
            json!({"active": true}),
        );
        b["systemMetadata"] = json!({"properties": {"appSource": "ui"}});
        assert_eq!(ingest(&emu, &t, vec![a, b]).await.0, 200);
        let (_, r) = gql(&emu, &t, LIST, json!({})).await;
        let urns: Vec<&str> = r["data"]["listUsers"]["users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["urn"].as_str())
            .collect();
        assert!(urns.contains(&"urn:li:corpuser:ui"), "{version}: {r}");
        assert_eq!(
            urns.contains(&"urn:li:corpuser:hdr"),
            header_syncs,
            "{version}: {r}"
        );
    }
}

#[tokio::test]
async fn a_suspended_actors_token_works_until_1_2_0() {
    for (version, refused) in [
        ("0.15.0", false),
        ("1.1.0", false),
        ("1.2.0", true),
        ("1.7.0", true),
    ] {
        let emu = start_release(version).await;
        let t = emu.create_user_token("sus", false);
        emu.put_aspect(
            "urn:li:corpuser:sus",
            "corpUserStatus",
            status_aspect("SUSPENDED"),
        );
        let (s, _) = gql(&emu, &t, "query { me { corpUser { urn } } }", json!({})).await;
        assert_eq!(s, if refused { 401 } else { 200 }, "{version}");
    }
}

#[tokio::test]
async fn list_users_needs_manage_until_1_4_0() {
    const LIST: &str = "query { listUsers(input: {start: 0, count: 1}) { total } }";
    for (version, open) in [("0.15.0", false), ("1.3.0", false), ("1.4.0", true)] {
        let emu = start_release(version).await;
        let t = emu.create_user_token("reader", false);
        let (_, b) = gql(&emu, &t, LIST, json!({})).await;
        if open {
            assert!(
                b["data"]["listUsers"]["total"].is_number(),
                "{version}: {b}"
            );
        } else {
            assert_eq!(gql_error(&b).0, 403, "{version}: {b}");
        }
    }
}

/// Membership reads (`relationships` on a group, INCOMING `IsMemberOfGroup`): up to
/// 1.6 one Elasticsearch `from`/`size` query (default 100, `total` capped at 10,000, a
/// page past the window fails); from 1.7 (#17886) an in-memory slice (default all,
/// exact `total`). Soft-deleted members are never returned.
#[tokio::test]
async fn membership_reads_follow_the_release() {
    const Q: &str = "query q($u: String!, $i: RelationshipsInput!) { corpGroup(urn: $u) { relationships(input: $i) { start count total relationships { entity { urn } } } } }";
    let group = "urn:li:corpGroup:big";
    for (version, in_memory) in [("0.15.0", false), ("1.6.0", false), ("1.7.0", true)] {
        let emu = start_release(version).await;
        let t = emu.admin_token();
        for i in 0..10_050 {
            emu.put_aspect(
                &format!("urn:li:corpuser:m{i:05}"),
                "groupMembership",
                json!({"groups": [group]}),
            );
        }
        emu.put_aspect("urn:li:corpuser:m00000", "status", json!({"removed": true}));
        let rel = |input: Value| {
            let emu = emu.clone();
            let t = t.clone();
            async move {
                let vars = json!({"u": group, "i": input});
                gql(&emu, &t, Q, vars).await.1
            }
        };
        let base = json!({"types": ["IsMemberOfGroup"], "direction": "INCOMING"});
        let first = rel(base.clone()).await;
        let r = &first["data"]["corpGroup"]["relationships"];
        let live = 10_049;
        if in_memory {
            assert_eq!(r["total"], live, "{version}: exact");
            assert_eq!(r["count"], live, "{version}: default count is all");
        } else {
            assert_eq!(r["total"], 10_000, "{version}: capped");
            assert_eq!(r["count"], 100, "{version}: default count 100");
        }
        let mut deep = base.clone();
        deep["start"] = json!(9_990);
        deep["count"] = json!(100);
        let b = rel(deep).await;
        if in_memory {
            let r = &b["data"]["corpGroup"]["relationships"];
            assert_eq!(r["count"], 59, "{version}: the last 59 of 10,049");
        } else {
            let (code, _, _) = gql_error(&b);
            assert_eq!(code, 500, "{version}: past the window: {b}");
        }
        let removed = first["data"]["corpGroup"]["relationships"]["relationships"]
            .as_array()
            .expect("rels")
            .iter()
            .any(|x| x["entity"]["urn"] == "urn:li:corpuser:m00000");
        assert!(!removed, "{version}: soft-deleted members are not returned");
    }
}
