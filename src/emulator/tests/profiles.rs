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
