//! The GMS emulator seen through the real client in `datahub_scim::datahub`. Every
//! test that needs no emulator hook also runs against a real GMS when
//! `DATAHUB_GMS_URL` and `DATAHUB_GMS_TOKEN` (a PAT with the Admin role) are set; the
//! others are skipped there. A test that passes here and fails against DataHub is an
//! emulator bug.

use datahub_scim::datahub::aspects::{
    AuditStamp, CorpUserInfo, CorpUserStatus, GroupMembership, Status, UserStatus,
};
use datahub_scim::datahub::{
    Client, ClientConfig, EntityKind, Error, FacetFilter, Proposal, SearchRequest, Urn,
};
use datahub_scim::emulator::Emulator;
use std::time::Duration;

/// Where the tests run: a fresh emulator, or the GMS named in the environment.
struct Upstream {
    client: Client,
    token: String,
    emu: Option<Emulator>,
}

/// A client that knows the DataHub release, as the gateway's does after its first
/// readiness probe (`GET /config`).
async fn client(base: &str, timeout: Duration) -> Client {
    let mut cfg = ClientConfig::new(base);
    cfg.request_timeout = timeout;
    let c = Client::new(cfg).expect("client");
    c.detect_release().await.expect("GET /config");
    c
}

async fn upstream() -> Upstream {
    if let (Ok(url), Ok(token)) = (
        std::env::var("DATAHUB_GMS_URL"),
        std::env::var("DATAHUB_GMS_TOKEN"),
    ) {
        return Upstream {
            client: client(&url, Duration::from_secs(30)).await,
            token,
            emu: None,
        };
    }
    let emu = emulated().await;
    Upstream {
        client: client(&emu.base_url(), Duration::from_secs(5)).await,
        token: emu.admin_token(),
        emu: Some(emu),
    }
}

async fn emulated() -> Emulator {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Emulator::start(crate::harness::emulator_config(), l)
        .await
        .expect("emulator")
}

/// The emulator, or `None` (test skipped) when running against a real GMS.
async fn emulator_only(name: &str) -> Option<(Emulator, Client)> {
    if std::env::var("DATAHUB_GMS_URL").is_ok() {
        eprintln!("{name}: needs emulator hooks, skipped against a real GMS");
        return None;
    }
    let emu = emulated().await;
    let c = client(&emu.base_url(), Duration::from_millis(800)).await;
    emu.reset_calls();
    Some((emu, c))
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn user_info(email: &str) -> CorpUserInfo {
    CorpUserInfo {
        active: true,
        email: Some(email.into()),
        display_name: Some("Jöhn Dœ".into()),
        ..CorpUserInfo::default()
    }
}

#[tokio::test]
async fn config_health_and_me() {
    let up = upstream().await;
    up.client.health().await.expect("health");
    let cfg = up.client.server_config().await.expect("config");
    assert!(cfg.version.is_some_and(|v| v.starts_with('v')));
    let me = up.client.me(&up.token).await.expect("me");
    assert!(
        me.manage_identities,
        "the test token must hold the Admin role"
    );
    let err = up.client.me("not-a-jwt").await.expect_err("bad token");
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
}

#[tokio::test]
async fn write_read_exists_and_phantoms() {
    let up = upstream().await;
    let (c, t) = (&up.client, up.token.as_str());
    let urn = Urn::corp_user(&unique("it-user"));
    assert!(
        !c.key_exists(t, &urn).await.expect("key probe"),
        "absent: 404 on /aspects"
    );
    assert!(!c.exists(t, &urn, true).await.expect("exists"));
    let phantom = c
        .batch_get(t, std::slice::from_ref(&urn), &["corpUserInfo"])
        .await
        .expect("batch");
    assert!(
        !phantom[0].has_data(),
        "the synthesized key aspect is not data"
    );

    c.ingest(
        t,
        &[Proposal::upsert(&urn, &user_info("j@example.com")).expect("mcp")],
    )
    .await
    .expect("ingest");
    assert!(
        c.key_exists(t, &urn).await.expect("key probe"),
        "key aspect created on first write"
    );
    let got = c
        .get_aspect::<CorpUserInfo>(t, &urn)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        got.value.display_name.as_deref(),
        Some("Jöhn Dœ"),
        "non-ASCII survives the \\u escapes"
    );
    let read = c
        .batch_get(t, std::slice::from_ref(&urn), &["corpUserInfo"])
        .await
        .expect("batch");
    let v = read[0]
        .get::<CorpUserInfo>()
        .expect("typed")
        .expect("present");
    assert_eq!(v.version.as_deref(), Some("1"));

    // an identical UPSERT keeps the version; a change bumps it
    c.ingest(
        t,
        &[Proposal::upsert(&urn, &user_info("j@example.com")).expect("mcp")],
    )
    .await
    .expect("ingest");
    c.ingest(
        t,
        &[Proposal::upsert(&urn, &user_info("k@example.com")).expect("mcp")],
    )
    .await
    .expect("ingest");
    let read = c
        .batch_get(t, std::slice::from_ref(&urn), &["corpUserInfo"])
        .await
        .expect("batch");
    assert_eq!(
        read[0]
            .raw("corpUserInfo")
            .and_then(|r| r.version.clone())
            .as_deref(),
        Some("2")
    );

    c.hard_delete(t, &urn).await.expect("delete");
    assert!(!c.key_exists(t, &urn).await.expect("key probe"));
}

#[tokio::test]
async fn conditional_writes_fail_as_preconditions_and_batches_are_atomic() {
    let up = upstream().await;
    let (c, t) = (&up.client, up.token.as_str());
    let urn = Urn::corp_user(&unique("it-cond"));
    let other = Urn::corp_user(&unique("it-cond-other"));
    let first = Proposal::upsert(&urn, &user_info("a@example.com"))
        .expect("mcp")
        .if_absent();
    c.ingest(t, std::slice::from_ref(&first))
        .await
        .expect("absent → written");
    let again = Proposal::upsert(&other, &user_info("b@example.com")).expect("mcp");
    let err = c
        .ingest(t, &[again, first])
        .await
        .expect_err("second if_absent loses");
    assert!(matches!(err, Error::PreconditionFailed(_)), "{err:?}");
    assert!(
        !c.key_exists(t, &other).await.expect("probe"),
        "nothing of a failed batch is written"
    );
    let stale = Proposal::upsert(&urn, &user_info("c@example.com"))
        .expect("mcp")
        .if_version_match("7");
    assert!(matches!(
        c.ingest(t, &[stale]).await,
        Err(Error::PreconditionFailed(_))
    ));
    c.hard_delete(t, &urn).await.expect("cleanup");
}

#[tokio::test]
async fn concurrent_read_modify_writes_lose_no_update() {
    let up = upstream().await;
    let (c, t) = (&up.client, up.token.as_str());
    let urn = Urn::corp_user(&unique("it-rmw"));
    c.ingest(
        t,
        &[Proposal::upsert(&urn, &user_info("r@example.com")).expect("mcp")],
    )
    .await
    .expect("seed");
    let add = |g: &'static str| {
        let (c, urn) = (c.clone(), urn.clone());
        async move {
            c.read_modify_write::<_, Error>(
                t,
                std::slice::from_ref(&urn),
                &["groupMembership"],
                10,
                |es| {
                    let mut gm = es[0]
                        .get::<GroupMembership>()?
                        .map(|v| v.value)
                        .unwrap_or_default();
                    let g = Urn::corp_group(g);
                    if gm.groups.contains(&g) {
                        return Ok(vec![]);
                    }
                    gm.groups.push(g);
                    Ok(vec![
                        Proposal::upsert(&es[0].urn, &gm)?.conditional_on(&es[0])
                    ])
                },
            )
            .await
        }
    };
    let (a, b) = tokio::join!(add("it-a"), add("it-b"));
    a.expect("a");
    b.expect("b");
    let gm = c
        .get_aspect::<GroupMembership>(t, &urn)
        .await
        .expect("get")
        .expect("present")
        .value;
    assert_eq!(gm.groups.len(), 2, "{gm:?}");
    c.hard_delete(t, &urn).await.expect("cleanup");
}

#[tokio::test]
async fn search_list_and_membership_reads() {
    let up = upstream().await;
    let (c, t) = (&up.client, up.token.as_str());
    let name = unique("it-search");
    let urn = Urn::corp_user(&name);
    let group = Urn::corp_group(&unique("it-group"));
    let email = format!("{name}@Example.com");
    if let Some(emu) = &up.emu {
        // the client's writes carry the sync-index MCP header: visible despite the lag
        emu.set_index_lag(Duration::from_secs(30));
    }
    let gm = GroupMembership {
        groups: vec![group.clone()],
        ..GroupMembership::default()
    };
    c.ingest(
        t,
        &[
            Proposal::upsert(&urn, &user_info(&email)).expect("mcp"),
            Proposal::upsert(&urn, &gm).expect("mcp"),
        ],
    )
    .await
    .expect("ingest");
    let by = |cond: FacetFilter| SearchRequest {
        types: vec![EntityKind::CorpUser],
        query: "*".into(),
        or_filters: vec![vec![cond]],
        start: 0,
        count: 10,
        include_soft_deleted: false,
        sort_by_urn: false,
    };
    let page = c
        .search(t, &by(FacetFilter::iequal("email", &email.to_lowercase())))
        .await
        .expect("search");
    assert_eq!(page.urns, vec![urn.clone()]);
    let page = c
        .search(t, &by(FacetFilter::equal("ldap", &name)))
        .await
        .expect("search");
    assert_eq!(page.total, 1);

    let members = c.group_members(t, &group, 0, 50).await.expect("members");
    assert!(
        members
            .related
            .iter()
            .any(|r| r.urn == urn && r.relationship == "IsMemberOfGroup"),
        "{members:?}"
    );
    let groups = c.user_groups(t, &urn, 0, 50).await.expect("groups");
    assert_eq!(
        groups.related.iter().map(|r| &r.urn).collect::<Vec<_>>(),
        vec![&group]
    );

    // soft delete (sync-indexed) hides the user from search and lists
    c.ingest(
        t,
        &[Proposal::upsert(
            &urn,
            &Status {
                removed: true,
                ..Status::default()
            },
        )
        .expect("mcp")],
    )
    .await
    .expect("soft delete");
    let page = c
        .search(t, &by(FacetFilter::equal("ldap", &name)))
        .await
        .expect("search");
    assert_eq!(page.total, 0);
    let mut soft = by(FacetFilter::equal("ldap", &name));
    soft.include_soft_deleted = true;
    assert_eq!(c.search(t, &soft).await.expect("search").total, 1);
    assert!(c.exists(t, &urn, true).await.expect("exists"));
    assert!(!c.exists(t, &urn, false).await.expect("exists"));
    c.hard_delete(t, &urn).await.expect("cleanup");
}

#[tokio::test]
async fn suspension_and_revocation_reach_the_client_as_401() {
    let Some((emu, c)) = emulator_only("suspension_and_revocation_reach_the_client_as_401").await
    else {
        return;
    };
    let admin = emu.admin_token();
    let tok = emu.create_user_token("it-sus", false);
    let me = c.me(&tok).await.expect("me");
    assert!(!me.manage_identities);
    let urn = Urn::corp_user("it-sus");
    let err = c
        .ingest(
            &tok,
            &[Proposal::upsert(&urn, &user_info("s@x")).expect("mcp")],
        )
        .await
        .expect_err("no privilege");
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let stamp = AuditStamp {
        time: 1,
        actor: Urn::corp_user("datahub"),
        impersonator: None,
        message: None,
    };
    let status = CorpUserStatus {
        status: UserStatus::Suspended,
        last_modified: stamp,
        extra: Default::default(),
    };
    c.ingest(&admin, &[Proposal::upsert(&urn, &status).expect("mcp")])
        .await
        .expect("suspend");
    if c.release().expect("release").rejects_inactive_actors() {
        assert!(matches!(c.me(&tok).await, Err(Error::Unauthorized)));
        assert!(matches!(
            c.key_exists(&tok, &urn).await,
            Err(Error::Unauthorized)
        ));
    } else {
        // Before 1.2.0 (#13947) GMS does not check the actor: a suspended user's PAT
        // works until it expires or is revoked (the gateway checks the actor itself).
        assert_eq!(c.me(&tok).await.expect("me").urn, urn);
    }
}

#[tokio::test]
async fn unknown_status_values_are_readable_but_never_written_back() {
    let Some((emu, c)) = emulator_only("unknown_status_values").await else {
        return;
    };
    let t = emu.admin_token();
    let urn = Urn::corp_user("it-prov");
    emu.put_aspect(urn.as_str(), "corpUserStatus", serde_json::json!({"status": "PROVISIONED", "lastModified": {"time": 1, "actor": "urn:li:corpuser:x"}}));
    let s = c
        .get_aspect::<CorpUserStatus>(&t, &urn)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(s.value.status, UserStatus::Unrecognized);
    assert!(
        Proposal::upsert(&urn, &s.value).is_err(),
        "the client refuses to write it back"
    );
}

#[tokio::test]
async fn one_call_per_operation_and_faults_surface_as_unavailable() {
    let Some((emu, c)) = emulator_only("faults").await else {
        return;
    };
    let t = emu.admin_token();
    let urns: Vec<Urn> = (0..5)
        .map(|i| Urn::corp_user(&format!("it-batch-{i}")))
        .collect();
    let proposals: Vec<Proposal> = urns
        .iter()
        .map(|u| Proposal::upsert(u, &user_info("x@y")).expect("mcp"))
        .collect();
    emu.reset_calls();
    c.ingest(&t, &proposals).await.expect("ingest");
    c.batch_get(&t, &urns, &["corpUserInfo", "status"])
        .await
        .expect("batch");
    let counts = emu.call_counts();
    assert_eq!(counts.get("restli.ingestProposalBatch"), Some(&1));
    assert_eq!(counts.get("restli.entitiesV2.batchGet"), Some(&1));
    assert_eq!(counts.values().sum::<u64>(), 2);

    emu.faults()
        .fail_next_on("restli.ingestProposalBatch", 1, 503);
    let err = c.ingest(&t, &proposals).await.expect_err("503");
    assert!(err.is_transient(), "{err:?}");
    emu.faults().drop_next(1);
    assert!(c.me(&t).await.expect_err("dropped").is_transient());
    emu.faults().stall_next(1);
    assert!(c
        .me(&t)
        .await
        .expect_err("stalled past the request timeout")
        .is_transient());
    c.me(&t).await.expect("healthy again");
}
