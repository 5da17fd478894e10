//! §3: ingestProposal(Batch) validation, atomicity, silent drops, conditional writes,
//! versions, `/aspects` vs the phantom key of `/entitiesV2`, exists/delete, index lag.

use super::*;
use std::time::Duration;

const U: &str = "urn:li:corpuser:jdoe@example.com";

fn with_headers(mut m: Value, h: Value) -> Value {
    m["headers"] = h;
    m
}

#[tokio::test]
async fn phantom_key_on_entities_v2_but_404_on_aspects() {
    let emu = start().await;
    let t = emu.admin_token();
    let (s, e) = call(
        &emu,
        Some(&t),
        "GET",
        &format!("/entitiesV2/{}?aspects=List(corpUserInfo)", enc(U)),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        e["aspects"]["corpUserKey"]["value"]["username"],
        "jdoe@example.com"
    );
    assert_eq!(
        e["aspects"]["corpUserKey"]["created"]["actor"],
        "urn:li:corpuser:__datahub_system"
    );
    assert!(e["aspects"].get("corpUserInfo").is_none());
    let (s, _) = call(
        &emu,
        Some(&t),
        "GET",
        &format!("/aspects/{}?aspect=corpUserKey&version=0", enc(U)),
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (_, ex) = call(
        &emu,
        Some(&t),
        "POST",
        "/entities?action=exists",
        Some(json!({"urn": U})),
    )
    .await;
    assert_eq!(ex, json!({"value": false}));
    assert!(!emu.entity_exists(U));
}

#[tokio::test]
async fn write_then_read_with_fqcn_and_versions() {
    let emu = start().await;
    let t = emu.admin_token();
    let info = json!({"active": true, "displayName": "J\u{f6}hn", "unknownField": 1});
    let (s, r) = ingest(&emu, &t, vec![mcp(U, "corpUserInfo", info.clone())]).await;
    assert_eq!((s, r), (200, json!({"value": "success"})));
    let (s, a) = call(
        &emu,
        Some(&t),
        "GET",
        &format!("/aspects/{}?aspect=corpUserInfo&version=0", enc(U)),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        a["aspect"]["com.linkedin.identity.CorpUserInfo"],
        json!({"active": true, "displayName": "J\u{f6}hn"}),
        "unknown fields trimmed"
    );
    let (s, k) = call(
        &emu,
        Some(&t),
        "GET",
        &format!("/aspects/{}?aspect=corpUserKey", enc(U)),
        None,
    )
    .await;
    assert_eq!(s, 200, "key aspect created automatically");
    assert_eq!(
        k["aspect"]["com.linkedin.metadata.key.CorpUserKey"]["username"],
        "jdoe@example.com"
    );
    assert_eq!(emu.aspect_version(U, "corpUserInfo"), Some(1));
    ingest(&emu, &t, vec![mcp(U, "corpUserInfo", info)]).await;
    assert_eq!(
        emu.aspect_version(U, "corpUserInfo"),
        Some(1),
        "identical UPSERT keeps the version"
    );
    ingest(
        &emu,
        &t,
        vec![mcp(U, "corpUserInfo", json!({"active": false}))],
    )
    .await;
    assert_eq!(emu.aspect_version(U, "corpUserInfo"), Some(2));
    let path = format!(
        "/entitiesV2?ids=List({},{})&aspects=List(corpUserInfo)",
        enc(U),
        enc("urn:li:corpuser:nobody")
    );
    let (s, b) = call(&emu, Some(&t), "GET", &path, None).await;
    assert_eq!(s, 200);
    let e = &b["results"][U]["aspects"]["corpUserInfo"];
    assert_eq!(e["systemMetadata"]["version"], "2");
    assert_eq!(e["version"], 0);
    assert_eq!(e["type"], "VERSIONED");
    assert_eq!(
        b["results"]["urn:li:corpuser:nobody"]["aspects"]["corpUserKey"]["value"]["username"],
        "nobody"
    );
}

#[tokio::test]
async fn missing_required_fields_are_422_and_batches_are_atomic() {
    let emu = start().await;
    let t = emu.admin_token();
    for (aspect, bad) in [
        ("corpUserInfo", json!({"displayName": "x"})),
        ("corpUserStatus", json!({"status": "ACTIVE"})),
        ("groupMembership", json!({})),
        ("nativeGroupMembership", json!({"groups": []})),
        ("roleMembership", json!({})),
        ("origin", json!({"type": "SOMEWHERE"})),
    ] {
        let (s, body) = ingest(
            &emu,
            &t,
            vec![
                mcp(U, "status", json!({"removed": false})),
                mcp(U, aspect, bad),
            ],
        )
        .await;
        assert_eq!(s, 422, "{aspect}");
        assert_eq!(body["status"], 422);
        assert!(
            !emu.entity_exists(U),
            "nothing of the batch is written ({aspect})"
        );
    }
    let g = "urn:li:corpGroup:eng";
    let (s, _) = ingest(
        &emu,
        &t,
        vec![mcp(
            g,
            "corpGroupInfo",
            json!({"admins": [], "members": []}),
        )],
    )
    .await;
    assert_eq!(s, 422);
    let (s, _) = ingest(&emu, &t, vec![mcp(U, "noSuchAspect", json!({}))]).await;
    assert_eq!(s, 422, "unknown aspect");
    let mut extra = mcp(U, "status", json!({"removed": false}));
    extra["bogus"] = json!(1);
    let (s, _) = ingest(&emu, &t, vec![extra]).await;
    assert_eq!(s, 400, "unknown MCP field");
    // a status outside ACTIVE/SUSPENDED is accepted by the model
    let (s, _) = ingest(
        &emu,
        &t,
        vec![mcp(U, "corpUserStatus", status_aspect("PROVISIONED"))],
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn delete_restate_and_invalid_urns_are_silently_dropped() {
    let emu = start().await;
    let t = emu.admin_token();
    emu.put_aspect(U, "corpUserInfo", json!({"active": true}));
    let mut del = mcp(U, "corpUserInfo", json!({"active": true}));
    del["changeType"] = json!("DELETE");
    let mut restate = mcp(U, "corpUserInfo", json!({"active": false}));
    restate["changeType"] = json!("RESTATE");
    let bad_urn = mcp(
        " urn:li:corpuser:padded",
        "corpUserInfo",
        json!({"active": true}),
    );
    let long = mcp(
        &format!("urn:li:corpuser:{}", "x".repeat(600)),
        "corpUserInfo",
        json!({"active": true}),
    );
    let (s, r) = ingest(&emu, &t, vec![del, restate, bad_urn, long]).await;
    assert_eq!((s, r), (200, json!({"value": "success"})));
    assert_eq!(emu.aspect(U, "corpUserInfo"), Some(json!({"active": true})));
    assert!(!emu.entity_exists(" urn:li:corpuser:padded"));
}

#[tokio::test]
async fn conditional_writes_use_the_mcp_headers_map() {
    let emu = start().await;
    let t = emu.admin_token();
    let m = |v: bool, h: Value| with_headers(mcp(U, "corpUserInfo", json!({"active": v})), h);
    assert_eq!(
        ingest(&emu, &t, vec![m(true, json!({"If-Version-Match": "-1"}))])
            .await
            .0,
        200,
        "-1 = absent"
    );
    let (s, body) = ingest(&emu, &t, vec![m(false, json!({"If-Version-Match": "-1"}))]).await;
    assert_eq!(s, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Expected version -1, actual version 1"),
        "{body}"
    );
    assert_eq!(
        ingest(&emu, &t, vec![m(false, json!({"If-Version-Match": "1"}))])
            .await
            .0,
        200
    );
    assert_eq!(emu.aspect_version(U, "corpUserInfo"), Some(2));
    // an HTTP request header of the same name is ignored
    let body =
        json!({"proposals": [mcp(U, "corpUserInfo", json!({"active": true}))], "async": "false"});
    let auth = format!("Bearer {t}");
    let (s, _) = try_send(
        &emu,
        "POST",
        "/aspects?action=ingestProposalBatch",
        &[("authorization", &auth), ("If-Version-Match", "99")],
        Some(body.to_string()),
    )
    .await
    .expect("resp");
    assert_eq!(s, 200);
    assert_eq!(emu.aspect_version(U, "corpUserInfo"), Some(3));
    // CREATE fails on an existing aspect unless If-None-Match: * (then silently dropped)
    let mut c = mcp(U, "corpUserInfo", json!({"active": false}));
    c["changeType"] = json!("CREATE");
    assert_eq!(ingest(&emu, &t, vec![c.clone()]).await.0, 422);
    assert_eq!(
        ingest(
            &emu,
            &t,
            vec![with_headers(c, json!({"If-None-Match": "*"}))]
        )
        .await
        .0,
        200
    );
    assert_eq!(emu.aspect(U, "corpUserInfo"), Some(json!({"active": true})));
    let mut ce = mcp(U, "status", json!({"removed": false}));
    ce["changeType"] = json!("CREATE_ENTITY");
    assert_eq!(ingest(&emu, &t, vec![ce]).await.0, 422, "entity exists");
}

/// An unchanged value keeps its version (only `lastObserved` moves), and its
/// `If-Version-Match` is still checked: a stale one fails the whole batch
/// (`EntityServiceImpl.ingestAspectToLocalDB` step 3, `ConditionalWriteValidator`
/// over every change item). The gateway's guards rely on both.
#[tokio::test]
async fn an_unchanged_value_keeps_its_version_and_its_precondition_is_checked() {
    let emu = start().await;
    let t = emu.admin_token();
    let info = |v: bool| mcp(U, "corpUserInfo", json!({"active": v}));
    let st = |v: &str| {
        with_headers(
            mcp(U, "status", json!({"removed": false})),
            json!({"If-Version-Match": v}),
        )
    };
    assert_eq!(ingest(&emu, &t, vec![info(true), st("-1")]).await.0, 200);
    assert_eq!(emu.aspect_version(U, "status"), Some(1));
    // The same status again, conditioned on its version: applied, version unchanged.
    assert_eq!(ingest(&emu, &t, vec![info(false), st("1")]).await.0, 200);
    assert_eq!(emu.aspect_version(U, "status"), Some(1));
    assert_eq!(emu.aspect_version(U, "corpUserInfo"), Some(2));
    // Conditioned on a version it does not have: the batch fails, nothing is written.
    let (s, body) = ingest(&emu, &t, vec![info(true), st("2")]).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        emu.aspect(U, "corpUserInfo"),
        Some(json!({"active": false}))
    );
}

#[tokio::test]
async fn single_ingest_exists_and_hard_delete() {
    let emu = start().await;
    let t = emu.admin_token();
    let (s, r) = call(
        &emu,
        Some(&t),
        "POST",
        "/aspects?action=ingestProposal",
        Some(json!({"proposal": mcp(U, "status", json!({"removed": true}))})),
    )
    .await;
    assert_eq!((s, r), (200, json!({"value": "success"})));
    let ex = |soft: Option<bool>| {
        let mut b = json!({"urn": U});
        if let Some(s) = soft {
            b["includeSoftDelete"] = json!(s);
        }
        call(&emu, Some(&t), "POST", "/entities?action=exists", Some(b))
    };
    assert_eq!(
        ex(None).await.1,
        json!({"value": true}),
        "soft-deleted counts by default"
    );
    assert_eq!(ex(Some(false)).await.1, json!({"value": false}));
    let (s, d) = call(
        &emu,
        Some(&t),
        "POST",
        "/entities?action=delete",
        Some(json!({"urn": U})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(d["value"]["rows"], 2);
    assert_eq!(ex(None).await.1, json!({"value": false}));
}

#[tokio::test]
async fn search_lags_unless_sync_indexed() {
    let emu = start().await;
    let t = emu.admin_token();
    emu.set_index_lag(Duration::from_millis(400));
    let q = "query($i: SearchAcrossEntitiesInput!) { searchAcrossEntities(input: $i) { total searchResults { entity { urn } } } }";
    let find = |ldap: &'static str| {
        let v = json!({"i": {"types": ["CORP_USER"], "query": "*", "orFilters": [{"and": [{"field": "ldap", "values": [ldap], "condition": "EQUAL"}]}]}});
        gql(&emu, &t, q, v)
    };
    ingest(
        &emu,
        &t,
        vec![mcp(
            "urn:li:corpuser:lagged",
            "corpUserInfo",
            json!({"active": true}),
        )],
    )
    .await;
    let synced = with_headers(
        mcp(
            "urn:li:corpuser:synced",
            "corpUserInfo",
            json!({"active": true}),
        ),
        json!({"X-DataHub-Sync-Index-Update": "true"}),
    );
    ingest(&emu, &t, vec![synced]).await;
    assert_eq!(
        emu.aspect("urn:li:corpuser:lagged", "corpUserInfo"),
        Some(json!({"active": true})),
        "primary store is immediate"
    );
    assert_eq!(
        find("lagged").await.1["data"]["searchAcrossEntities"]["total"],
        0
    );
    assert_eq!(
        find("synced").await.1["data"]["searchAcrossEntities"]["total"],
        1
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        find("lagged").await.1["data"]["searchAcrossEntities"]["total"],
        1
    );
}

#[tokio::test]
async fn patch_needs_the_generic_form_on_identity_aspects() {
    let emu = start().await;
    let t = emu.admin_token();
    let g = "urn:li:corpGroup:eng";
    let patch = |payload: Value| {
        let mut m = mcp(U, "groupMembership", json!({}));
        m["changeType"] = json!("PATCH");
        m["aspect"] =
            json!({"value": payload.to_string(), "contentType": "application/json-patch+json"});
        m
    };
    let bare = json!([{"op": "add", "path": format!("/groups/{g}"), "value": g}]);
    assert_eq!(ingest(&emu, &t, vec![patch(bare)]).await.0, 422);
    let generic = json!({"arrayPrimaryKeys": {"groups": []}, "patch": [{"op": "add", "path": format!("/groups/{g}"), "value": g}]});
    assert_eq!(ingest(&emu, &t, vec![patch(generic.clone())]).await.0, 200);
    assert_eq!(ingest(&emu, &t, vec![patch(generic)]).await.0, 200);
    assert_eq!(
        emu.aspect(U, "groupMembership"),
        Some(json!({"groups": [g]}))
    );
    assert_eq!(
        emu.aspect_version(U, "groupMembership"),
        Some(1),
        "idempotent add keeps the version"
    );
    let (s, _) = ingest(&emu, &t, vec![patch(json!("not a patch"))]).await;
    assert_eq!(s, 200, "malformed JSON Patch is dropped silently");
}
