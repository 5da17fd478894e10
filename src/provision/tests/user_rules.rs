//! User rules added in review: `meta.created` is stamped once and kept; `userName`
//! is required on every write.

use serde_json::json;

use super::{calls, q, Env};
use crate::scim::ScimType;

fn okta_user(user_name: &str) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "active": true
    })
}

#[tokio::test]
async fn meta_created_is_stamped_once_and_kept() {
    let env = Env::start().await;
    let urn = "urn:li:corpuser:c@x.com";
    let before = crate::datahub::aspects::now_millis();
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("c@x.com"))
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    let stored = env.aspect(urn, "corpUserInfo")["customProperties"]["scim.created"].clone();
    let ms: i64 = stored.as_str().expect("stored").parse().expect("ms");
    assert!(ms >= before, "{ms} < {before}");
    let created = u["meta"]["created"]
        .as_str()
        .expect("meta.created")
        .to_owned();
    assert_eq!(
        Some(created.clone()),
        crate::scim::resource::rfc3339_millis(ms)
    );
    assert!(u["meta"]["lastModified"].is_string());
    let text = u.to_string();
    assert!(!text.contains("scim.created"), "not an attribute: {text}");

    // GET, a no-op PUT (which writes nothing) and a PATCH keep it.
    let got = env.prov.get_user(&env.ctx, &id, &q("")).await.expect("get");
    assert_eq!(got["meta"]["created"], json!(created));
    env.take_calls();
    let put = env
        .prov
        .replace_user(&env.ctx, &id, okta_user("c@x.com"))
        .await
        .expect("put");
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)]),
        "a no-op PUT writes nothing"
    );
    assert_eq!(put["meta"]["created"], json!(created));
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "New"}]
    });
    let patched = env
        .prov
        .patch_user(&env.ctx, &id, patch)
        .await
        .expect("patch")
        .expect("body");
    assert_eq!(patched["meta"]["created"], json!(created));
    assert_eq!(
        env.aspect(urn, "corpUserInfo")["customProperties"]["scim.created"],
        stored
    );

    // A revived user is a new resource: a new creation instant.
    env.prov.delete_user(&env.ctx, &id).await.expect("deleted");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    env.prov
        .create_user(&env.ctx, okta_user("c@x.com"))
        .await
        .expect("revived");
    let revived: i64 = env.aspect(urn, "corpUserInfo")["customProperties"]["scim.created"]
        .as_str()
        .expect("stored")
        .parse()
        .expect("ms");
    assert!(revived > ms, "{revived} <= {ms}");
}

#[tokio::test]
async fn a_user_without_user_name_is_refused_not_written_unmanaged() {
    let mut cfg = super::config();
    cfg.username_source = crate::provision::UsernameSource::PrimaryEmail;
    let env = Env::with(cfg).await;
    env.take_calls();
    let e = env
        .prov
        .create_user(
            &env.ctx,
            json!({"emails": [{"value": "n@x.com", "primary": true}]}),
        )
        .await
        .expect_err("userName is required");
    assert_eq!(e.status, 400);
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)]),
        "nothing written"
    );
    assert_eq!(
        env.aspect("urn:li:corpuser:n@x.com", "corpUserInfo"),
        json!(null)
    );

    let u = env
        .prov
        .create_user(
            &env.ctx,
            json!({"userName": "n", "emails": [{"value": "n@x.com", "primary": true}]}),
        )
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    let remove = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "userName"}]
    });
    let e = env
        .prov
        .patch_user(&env.ctx, &id, remove)
        .await
        .expect_err("userName stays");
    assert_eq!(e.status, 400);
    env.prov
        .get_user(&env.ctx, &id, &q(""))
        .await
        .expect("still a SCIM user");
}

/// Issue 9: control, bidi-override and invisible characters in `userName` are 400
/// `invalidValue` before anything is read or written — with the whole-match regex
/// `(.*)` a newline would otherwise cut `datahub\nx` down to DataHub's root user.
#[tokio::test]
async fn control_and_bidi_characters_in_user_name_are_refused() {
    let env = Env::start().await;
    for bad in [
        "datahub\nx",
        "a\u{0}b",
        "tab\tuser",
        "evil\u{202E}moc.elpmaxe@x",
        "zero\u{200B}width@x.com",
        "bom\u{FEFF}@x.com",
        "del\u{7F}@x.com",
        "c1\u{85}@x.com",
        "line\u{2028}sep@x.com",
        "isolate\u{2066}x@x.com",
    ] {
        env.take_calls();
        let e = env
            .prov
            .create_user(&env.ctx, okta_user(bad))
            .await
            .expect_err("refused");
        assert_eq!(
            (e.status, e.scim_type),
            (400, Some(ScimType::InvalidValue)),
            "{bad:?}"
        );
        assert!(e.detail.contains("U+"), "{}", e.detail);
        assert!(!e.detail.contains(bad), "the detail never echoes the name");
        assert!(env.take_calls().is_empty(), "{bad:?}: no GMS call");
    }
    // The root user was not touched.
    assert_eq!(
        env.aspect("urn:li:corpuser:datahub", "corpUserInfo")["customProperties"],
        serde_json::Value::Null
    );
    // Unicode letters, marks and emoji are fine.
    for good in ["José.Müller@x.com", "李雷@x.com", "o\u{301}scar@x.com"] {
        env.prov
            .create_user(&env.ctx, okta_user(good))
            .await
            .expect(good);
    }
    // A PUT that would bring one in is refused too.
    let id = crate::provision::ids::user_id("José.Müller@x.com");
    let mut body = okta_user("José.Müller@x.com");
    body["userName"] = json!("José.Müller@x.com\u{202E}");
    let e = env
        .prov
        .replace_user(&env.ctx, &id, body)
        .await
        .expect_err("refused");
    assert_eq!(e.status, 400);
    // A filter for such a name finds nothing, without a GMS call.
    env.take_calls();
    let l = env.users("filter=userName%20eq%20%22datahub%5Cnx%22").await;
    assert_eq!(l["totalResults"], json!(0));
}

/// Issue 9: DataHub's own users are never created, adopted, shown, changed or
/// deleted through SCIM, whatever the name rule yields.
#[tokio::test]
async fn datahub_system_users_are_never_adopted() {
    let env = Env::start().await;
    for reserved in [
        "datahub",
        "DataHub",
        "__datahub_system",
        "__anonymous",
        "UNKNOWN",
        "__anything",
        "service_3f2a9c1e-0000-4000-8000-000000000000",
    ] {
        let e = env
            .prov
            .create_user(&env.ctx, okta_user(reserved))
            .await
            .expect_err("reserved");
        assert_eq!(
            (e.status, e.scim_type),
            (400, Some(ScimType::InvalidValue)),
            "{reserved}"
        );
    }
    // The name rule yields a reserved name from an ordinary-looking userName.
    let mut cfg = super::config();
    cfg.username_regex = regex::Regex::new("([^@]+)").expect("regex");
    let env2 = Env::with(cfg).await;
    let e = env2
        .prov
        .create_user(&env2.ctx, okta_user("datahub@example.com"))
        .await
        .expect_err("yields datahub");
    assert_eq!(e.status, 400);
    assert!(env2.aspect("urn:li:corpuser:datahub", "corpUserInfo")["customProperties"].is_null());

    // Users DataHub flags: a system user and a support user under ordinary names.
    for (name, flag) in [("ops.bot", "system"), ("acryl.support", "isSupportUser")] {
        let urn = format!("urn:li:corpuser:{name}");
        env.emu
            .put_aspect(&urn, "corpUserInfo", json!({"active": true, flag: true}));
        let e = env
            .prov
            .create_user(&env.ctx, okta_user(name))
            .await
            .expect_err("flagged");
        assert_eq!(
            (e.status, e.scim_type),
            (409, Some(ScimType::Uniqueness)),
            "{name}"
        );
        assert!(env.aspect(&urn, "corpUserInfo")["customProperties"].is_null());
    }

    // One adopted by an older version (it carries our marks) stays out of reach.
    env.emu.put_aspect(
        "urn:li:corpuser:datahub",
        "corpUserInfo",
        json!({"active": true, "system": true,
               "customProperties": {"scim.userName": "datahub", "scim.managed": "true"}}),
    );
    let id = crate::provision::ids::user_id("datahub");
    assert_eq!(
        env.prov
            .get_user(&env.ctx, &id, &q(""))
            .await
            .expect_err("hidden")
            .status,
        404
    );
    assert_eq!(
        env.prov
            .delete_user(&env.ctx, &id)
            .await
            .expect_err("never deleted")
            .status,
        404
    );
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    assert_eq!(
        env.prov
            .patch_user(&env.ctx, &id, deactivate)
            .await
            .expect_err("never suspended")
            .status,
        404
    );
    assert_eq!(
        env.users("filter=userName%20eq%20%22datahub%22").await["totalResults"],
        json!(0)
    );
    assert_ne!(
        env.aspect("urn:li:corpuser:datahub", "status")["removed"],
        json!(true)
    );
}

/// Issue 9: `userName` is `caseExact: false, uniqueness: server`: a create whose
/// userName matches an existing SCIM user's ignoring case is 409, non-ASCII letters
/// included (DataHub's `IEQUAL` folds ASCII only; the folded name is indexed).
#[tokio::test]
async fn a_user_name_differing_only_in_case_is_409() {
    let env = Env::start().await;
    env.prov
        .create_user(&env.ctx, okta_user("dup@example.com"))
        .await
        .expect("first");
    env.prov
        .create_user(&env.ctx, okta_user("ÄNNE.Straße@example.com"))
        .await
        .expect("first");
    for variant in [
        "DUP@EXAMPLE.COM",
        "Dup@Example.com",
        "änne.straße@example.com",
        "ÄNNE.STRASSE@EXAMPLE.COM",
        "Änne.Strasse@Example.Com",
    ] {
        env.take_calls();
        let e = env
            .prov
            .create_user(&env.ctx, okta_user(variant))
            .await
            .expect_err("a case variant");
        assert_eq!(
            (e.status, e.scim_type),
            (409, Some(ScimType::Uniqueness)),
            "{variant}"
        );
        let c = env.take_calls();
        assert_eq!(
            c.get("graphql.searchAcrossEntities"),
            Some(&1),
            "{variant}: {c:?}"
        );
        assert_eq!(
            c.get("restli.ingestProposalBatch"),
            None,
            "{variant}: nothing written"
        );
        assert!(!env.emu.entity_exists(&format!("urn:li:corpuser:{variant}")));
    }
    // The lookup Okta makes before creating finds the existing user under any case.
    let f = |v: &str| {
        format!(
            "filter=userName%20eq%20%22{}%22",
            percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
        )
    };
    for variant in ["DUP@EXAMPLE.COM", "änne.strasse@example.com"] {
        let l = env.users(&f(variant)).await;
        assert_eq!(l["totalResults"], json!(1), "{variant}: {l}");
    }
    // A user written before the folded name existed (ASCII case variants only are
    // found, through IEQUAL on scim.userName).
    env.emu.put_aspect(
        "urn:li:corpuser:legacy@x.com",
        "corpUserInfo",
        json!({"active": true, "customProperties": {
            "scim.userName": "legacy@x.com", "scim.managed": "true"}}),
    );
    let e = env
        .prov
        .create_user(&env.ctx, okta_user("LEGACY@X.COM"))
        .await
        .expect_err("legacy variant");
    assert_eq!(e.status, 409);
    // A user DataHub knows from SSO only (not SCIM-managed) does not block anyone.
    env.emu.put_aspect(
        "urn:li:corpuser:sso@x.com",
        "corpUserInfo",
        json!({"active": true}),
    );
    env.prov
        .create_user(&env.ctx, okta_user("SSO@x.com"))
        .await
        .expect("not a SCIM user: no conflict");
}
