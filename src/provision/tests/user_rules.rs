//! User rules added in review: `meta.created` is stamped once and kept; `userName`
//! is required on every write.

use serde_json::json;

use super::{calls, q, Env};

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
        crate::provision::scim_json::rfc3339(ms)
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
