//! Rest.li error bodies and the messages DataHub really prints (Q8, Q12): the FULL
//! `ErrorResponse` with `X-RestLi-Error-Response`, the bare `ValidationExceptionCollection`
//! of a lost conditional write with the release's `ChangeItemImpl` layout, proposed-aspect
//! failures (400 before 1.0, 422 after), Rest.li parameter types (Q6) and aspects stored
//! without a version (Q7).

use super::*;

const U: &str = "urn:li:corpuser:jdoe@example.com";

fn conditional(urn: &str, value: Value, version: &str) -> Value {
    let mut m = mcp(urn, "corpUserInfo", value);
    m["headers"] = json!({"If-Version-Match": version});
    m
}

async fn ingest_full(emu: &Emulator, body: Value) -> (u16, http::HeaderMap, Value) {
    let auth = format!("Bearer {}", emu.admin_token());
    send_full(
        emu,
        "POST",
        "/aspects?action=ingestProposalBatch",
        &[("authorization", auth.as_str())],
        Some(body.to_string()),
    )
    .await
    .expect("response")
}

#[tokio::test]
async fn a_lost_conditional_write_is_a_bare_validation_collection_with_the_whole_item() {
    for (version, layout) in [
        ("1.7.0", "ChangeItemImpl{changeType=UPSERT, auditStamp={"),
        ("1.0.0", "ChangeItemImpl{changeType=UPSERT, auditStamp={"),
        (
            "0.15.0",
            "ChangeItemImpl{changeType=UPSERT, urn=urn:li:corpuser:jdoe@example.com, aspectName='corpUserInfo', recordTemplate={",
        ),
    ] {
        let emu = start_release(version).await;
        let t = emu.admin_token();
        let info = realistic_user_info("jdoe");
        assert_eq!(ingest(&emu, &t, vec![mcp(U, "corpUserInfo", info.clone())]).await.0, 200);
        let mut changed = info.clone();
        changed["title"] = json!("Principal Engineer");
        let body = json!({"proposals": [conditional(U, changed, "7")], "async": "false"});
        let (s, headers, b) = ingest_full(&emu, body).await;
        assert_eq!(s, 422, "{version}: {b}");
        assert_eq!(
            headers.get("x-restli-error-response").map(|v| v.as_bytes()),
            Some(&b"true"[..])
        );
        let msg = b["message"].as_str().expect("message");
        assert!(
            msg.starts_with("ValidationExceptionCollection{EntityAspect:(urn:li:corpuser:jdoe@example.com,corpUserInfo) Exceptions: [AspectValidationException(item=ChangeItemImpl{"),
            "{version}: {msg}"
        );
        assert!(msg.contains(layout), "{version}: {msg}");
        assert!(
            msg.ends_with("changeType=UPSERT, entityUrn=urn:li:corpuser:jdoe@example.com, aspectName=corpUserInfo, subType=PRECONDITION, msg=Expected version 7, actual version 1)]}"),
            "{version}: {msg}"
        );
        // The aspect value is printed whole, names and e-mails included, so the
        // precondition marker lands far beyond the first 500 characters.
        let at = msg.find("subType=PRECONDITION").expect("subType");
        assert!(at > 500, "{version}: PRECONDITION at {at}");
        assert!(msg.contains("Jöhn Dœ-Smithson") && msg.contains("title=Principal Engineer"));
        assert!(!msg.starts_with("Failed to validate MCP"), "no prefix before #18944");
        // FULL ErrorResponse members, with the Java HashMap key order.
        let keys: Vec<&str> = b.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["exceptionClass", "stackTrace", "message", "status"]);
        assert_eq!(b["exceptionClass"], "com.linkedin.restli.server.RestLiServiceException");
        assert_eq!(b["status"], 422);
        let trace = b["stackTrace"].as_str().expect("stackTrace");
        assert!(trace.starts_with(&format!(
            "com.linkedin.restli.server.RestLiServiceException [HTTP Status:422]: {msg}\n\tat "
        )));
        if version == "1.7.0" {
            let ai = msg.find("auditStamp=").expect("auditStamp");
            let si = msg.find("systemMetadata=").expect("systemMetadata");
            let ri = msg.find("recordTemplate=").expect("recordTemplate");
            let ni = msg.find("aspectName='corpUserInfo'").expect("aspectName");
            assert!(ai < si && si < ri && ri < ni, "{msg}");
        }
    }
}

#[tokio::test]
async fn create_conflicts_are_validation_subtype_in_the_same_layout() {
    let emu = start().await;
    let t = emu.admin_token();
    assert_eq!(
        ingest(
            &emu,
            &t,
            vec![mcp(U, "corpUserInfo", json!({"active": true}))]
        )
        .await
        .0,
        200
    );
    let mut c = mcp(U, "corpUserInfo", json!({"active": false}));
    c["changeType"] = json!("CREATE");
    let (s, b) = ingest(&emu, &t, vec![c]).await;
    assert_eq!(s, 422);
    let msg = b["message"].as_str().unwrap_or_default();
    assert!(msg.starts_with("ValidationExceptionCollection{"), "{msg}");
    assert!(
        msg.ends_with("changeType=CREATE, entityUrn=urn:li:corpuser:jdoe@example.com, aspectName=corpUserInfo, subType=VALIDATION, msg=Cannot perform CREATE since the aspect already exists.)]}"),
        "{msg}"
    );
}

#[tokio::test]
async fn proposed_aspect_failures_are_400_before_1_0_and_422_after() {
    for (version, status) in [("0.15.0", 400), ("1.0.0", 422), ("1.7.0", 422)] {
        let emu = start_release(version).await;
        let t = emu.admin_token();
        for bad in [
            mcp(U, "corpUserInfo", json!({"displayName": "no active"})),
            mcp(U, "bogusAspect", json!({"x": 1})),
            mcp(U, "origin", json!({"type": "SOMEWHERE"})),
        ] {
            let (s, b) = ingest(&emu, &t, vec![bad.clone()]).await;
            assert_eq!(s, status, "{version}: {b}");
            let msg = b["message"].as_str().unwrap_or_default();
            assert!(
                msg.starts_with("Failed to validate MCP due to: ValidationExceptionCollection{EntityAspect:(urn:li:corpuser:jdoe@example.com,"),
                "{version}: {msg}"
            );
            assert!(msg.contains("subType=VALIDATION"), "{msg}");
        }
        assert!(!emu.entity_exists(U), "nothing half-written");
    }
}

#[tokio::test]
async fn restli_parameters_keep_their_declared_types() {
    let emu = start().await;
    let t = emu.admin_token();
    let m = mcp(U, "corpUserInfo", json!({"active": true}));
    let (s, b) = call(
        &emu,
        Some(&t),
        "POST",
        "/aspects?action=ingestProposalBatch",
        Some(json!({"proposals": [m.clone()], "async": true})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        b["message"],
        "Parameters of method 'ingestProposalBatch' failed validation with error '[ERROR :: /async :: true cannot be coerced to String]'"
    );
    assert!(b["stackTrace"]
        .as_str()
        .is_some_and(|t| t.contains("Caused by: com.linkedin.restli.server.RoutingException")));
    assert!(!emu.entity_exists(U));
    let (s, _) = call(
        &emu,
        Some(&t),
        "POST",
        "/aspects?action=ingestProposal",
        Some(json!({"proposal": m, "async": "false"})),
    )
    .await;
    assert_eq!(s, 200, "a string is what DataHub declares");
    let (s, b) = call(
        &emu,
        Some(&t),
        "POST",
        "/entities?action=exists",
        Some(json!({"urn": U, "includeSoftDelete": "true"})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        b["message"],
        "Parameters of method 'exists' failed validation with error '[ERROR :: /includeSoftDelete :: true cannot be coerced to Boolean]'"
    );
    let (s, b) = call(
        &emu,
        Some(&t),
        "POST",
        "/entities?action=exists",
        Some(json!({"urn": U, "includeSoftDelete": false})),
    )
    .await;
    assert_eq!((s, b), (200, json!({"value": true})));
}

#[tokio::test]
async fn an_aspect_stored_without_a_version_compares_as_1() {
    let emu = start().await;
    let t = emu.admin_token();
    emu.put_legacy_aspect(U, "corpUserInfo", json!({"active": true}));
    let (_, e) = call(
        &emu,
        Some(&t),
        "GET",
        &format!("/entitiesV2/{}", enc(U)),
        None,
    )
    .await;
    let sm = &e["aspects"]["corpUserInfo"]["systemMetadata"];
    assert!(sm.is_object() && sm.get("version").is_none(), "{e}");
    let (s, b) = ingest(
        &emu,
        &t,
        vec![conditional(U, json!({"active": false}), "-1")],
    )
    .await;
    assert_eq!(s, 422);
    assert!(b["message"]
        .as_str()
        .is_some_and(|m| m.contains("msg=Expected version -1, actual version 1)]}")));
    let (s, _) = ingest(
        &emu,
        &t,
        vec![conditional(U, json!({"active": false}), "1")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        emu.aspect(U, "corpUserInfo"),
        Some(json!({"active": false}))
    );
    let (_, e) = call(
        &emu,
        Some(&t),
        "GET",
        &format!("/entitiesV2/{}", enc(U)),
        None,
    )
    .await;
    assert_eq!(
        e["aspects"]["corpUserInfo"]["systemMetadata"]["version"],
        "2"
    );
}
