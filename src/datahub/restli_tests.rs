//! MCP serialization (as in the reference examples), `GET /aspects` parsing
//! and the HTTP status → Error mapping.

use super::super::aspects::{CorpGroupInfo, CorpUserInfo, GroupMembership};
use super::super::transport::{status_error, Reply};
use super::*;
use http::{HeaderMap, StatusCode};

fn info() -> CorpUserInfo {
    CorpUserInfo {
        active: true,
        display_name: Some("Jöhn Doe".into()),
        email: Some("jdoe@example.com".into()),
        ..CorpUserInfo::default()
    }
}

#[test]
fn mcp_matches_the_reference_shape() {
    let urn = Urn::corp_user("jdoe@example.com");
    let p = Proposal::upsert(&urn, &info()).expect("proposal");
    let mcp = p.to_mcp(1_760_000_000_000, SyncIndex::Header);
    assert_eq!(
        mcp,
        json!({
            "entityType": "corpuser",
            "entityUrn": "urn:li:corpuser:jdoe@example.com",
            "changeType": "UPSERT",
            "aspectName": "corpUserInfo",
            "aspect": {
                "value": "{\"customProperties\":{},\"active\":true,\"displayName\":\"J\\u00f6hn Doe\",\"email\":\"jdoe@example.com\"}",
                "contentType": "application/json"
            },
            "systemMetadata": {
                "lastObserved": 1_760_000_000_000_i64,
                "runId": "datahub-scim",
                "properties": {"appSource": "datahub-scim"}
            },
            "headers": {"X-DataHub-Sync-Index-Update": "true"}
        })
    );
    // The inner value is pure ASCII and decodes back to the same aspect.
    let inner = mcp["aspect"]["value"].as_str().expect("string");
    assert!(inner.is_ascii());
    assert!(inner.contains(r"J\u00f6hn"));
    let back: CorpUserInfo = serde_json::from_str(inner).expect("inner JSON");
    assert_eq!(back, info());
}

#[test]
fn before_datahub_1_0_writes_also_ask_for_sync_indexing_as_the_ui_does() {
    // DataHub < 1.0.0 ignores X-DataHub-Sync-Index-Update (#12500); only
    // systemMetadata.properties.appSource == "ui" indexes in-request there.
    let p = Proposal::upsert(&Urn::corp_user("u"), &info()).expect("proposal");
    let mcp = p.to_mcp(5, SyncIndex::UiAppSource);
    assert_eq!(mcp["systemMetadata"]["properties"]["appSource"], "ui");
    assert_eq!(mcp["systemMetadata"]["runId"], "datahub-scim");
    assert_eq!(mcp["headers"]["X-DataHub-Sync-Index-Update"], "true");
}

#[test]
fn group_mcp_uses_the_group_entity_type_and_escapes_astral_chars() {
    let urn = Urn::corp_group("Data Eng (EU) 🚀");
    let g = CorpGroupInfo {
        display_name: Some("Data Eng (EU) 🚀".into()),
        ..CorpGroupInfo::default()
    };
    let p = Proposal::upsert(&urn, &g).expect("proposal");
    let mcp = p.to_mcp(1, SyncIndex::Header);
    assert_eq!(mcp["entityType"], "corpGroup");
    assert_eq!(mcp["entityUrn"], "urn:li:corpGroup:Data Eng (EU) 🚀");
    assert_eq!(mcp["aspectName"], "corpGroupInfo");
    assert_eq!(
        p.value_json(),
        r#"{"displayName":"Data Eng (EU) \ud83d\ude80","admins":[],"members":[],"groups":[]}"#
    );
    let back: CorpGroupInfo = serde_json::from_str(p.value_json()).expect("parse");
    assert_eq!(back, g);
}

#[test]
fn ascii_json_escapes_only_non_ascii() {
    let s = ascii_json(&json!({"a": "plain \"q\" \\ é 名 😀"})).expect("ser");
    assert_eq!(s, r#"{"a":"plain \"q\" \\ \u00e9 \u540d \ud83d\ude00"}"#);
    let v: Value = serde_json::from_str(&s).expect("valid JSON");
    assert_eq!(v["a"], "plain \"q\" \\ é 名 😀");
}

#[test]
fn conditional_headers() {
    let urn = Urn::corp_user("u");
    let m = GroupMembership::default();
    let p = Proposal::upsert(&urn, &m).expect("p").if_version_match("3");
    assert_eq!(p.header(IF_VERSION_MATCH), Some("3"));
    assert_eq!(p.header(SYNC_INDEX_HEADER), Some("true"));
    let p = Proposal::upsert(&urn, &m).expect("p").if_absent();
    assert_eq!(
        p.to_mcp(0, SyncIndex::Header)["headers"],
        json!({"If-Version-Match": "-1", "X-DataHub-Sync-Index-Update": "true"})
    );
}

#[test]
fn conditional_on_uses_the_version_read() {
    use super::super::entities::EntityAspects;
    let urn = Urn::corp_user("u");
    let mut e = EntityAspects::empty(urn.clone());
    e.insert("groupMembership", json!({"groups": []}), Some("4".into()));
    let m = GroupMembership::default();
    let p = Proposal::upsert(&urn, &m).expect("p").conditional_on(&e);
    assert_eq!(p.header(IF_VERSION_MATCH), Some("4"));
    // Absent aspect → only if still absent.
    let info = super::super::aspects::Status::removed(true);
    let p = Proposal::upsert(&urn, &info).expect("p").conditional_on(&e);
    assert_eq!(p.header(IF_VERSION_MATCH), Some("-1"));
    // Present without a reported version (written before DataHub versioned aspects):
    // still conditional, on "1", the version ConditionalWriteValidator compares with.
    e.insert("status", json!({"removed": false}), None);
    let p = Proposal::upsert(&urn, &info).expect("p").conditional_on(&e);
    assert_eq!(p.header(IF_VERSION_MATCH), Some("1"));
}

#[test]
fn batch_body() {
    let urn = Urn::corp_user("u");
    let a = Proposal::upsert(&urn, &info()).expect("p");
    let b = Proposal::upsert(&urn, &GroupMembership::default()).expect("p");
    let body = ingest_body(&[a.clone(), b.clone()], 9, SyncIndex::Header);
    assert_eq!(body["async"], "false");
    assert_eq!(
        body["proposals"],
        json!([
            a.to_mcp(9, SyncIndex::Header),
            b.to_mcp(9, SyncIndex::Header)
        ])
    );
    assert_eq!(body.as_object().expect("obj").len(), 2);
    let text = serde_json::to_string(&body).expect("ser");
    assert!(!text.contains("DELETE") && !text.contains("RESTATE"));
}

#[test]
fn proposal_debug_hides_personal_data() {
    let p = Proposal::upsert(&Urn::corp_user("secret.person"), &info()).expect("p");
    let d = format!("{p:?}");
    assert!(
        !d.contains("secret") && !d.contains("jdoe") && !d.contains("hn Doe"),
        "{d}"
    );
}

#[test]
fn parses_the_fqcn_wrapped_aspect() {
    let body = br#"{"aspect": {"com.linkedin.identity.CorpUserInfo": {"active": true, "displayName": "J\u00f6hn Doe", "email": "jdoe@example.com"}}, "version": 0}"#;
    let v: CorpUserInfo = parse_versioned_aspect(body).expect("parse");
    assert_eq!(v, info());
    let body = br#"{"aspect": {"com.linkedin.identity.GroupMembership": {"groups": ["urn:li:corpGroup:a"]}}, "version": 0}"#;
    let g: GroupMembership = parse_versioned_aspect(body).expect("parse");
    assert_eq!(g.groups, vec![Urn::corp_group("a")]);
    // Wrong aspect among several members is an error, not a silent default.
    let body = br#"{"aspect": {"a.B": {}, "c.D": {}}, "version": 0}"#;
    assert!(matches!(
        parse_versioned_aspect::<CorpUserInfo>(body),
        Err(Error::InvalidResponse(_))
    ));
    assert!(matches!(
        parse_versioned_aspect::<CorpUserInfo>(b"not json"),
        Err(Error::InvalidResponse(_))
    ));
}

#[test]
fn key_aspects() {
    assert_eq!(
        key_aspect_name(&Urn::corp_user("u")).expect("k"),
        "corpUserKey"
    );
    assert_eq!(
        key_aspect_name(&Urn::corp_group("g")).expect("k"),
        "corpGroupKey"
    );
    assert!(key_aspect_name(&Urn::new("dataset", "x")).is_err());
}

fn reply(status: u16, body: &str, headers: &[(&'static str, &str)]) -> Reply {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, v.parse().expect("header"));
    }
    Reply {
        status: StatusCode::from_u16(status).expect("status"),
        headers: h,
        body: bytes::Bytes::from(body.to_owned()),
    }
}

#[test]
fn status_mapping() {
    assert!(matches!(
        status_error(&reply(401, "", &[])),
        Error::Unauthorized
    ));
    assert!(matches!(
        status_error(&reply(403, r#"{"status":403,"message":"no"}"#, &[])),
        Error::Forbidden(m) if m == "no"
    ));
    assert!(matches!(
        status_error(&reply(404, "", &[])),
        Error::NotFound(_)
    ));
    assert!(matches!(
        status_error(&reply(409, "", &[])),
        Error::Conflict(_)
    ));
    assert!(matches!(
        status_error(&reply(412, r#"{"error":"Precondition Error","message":"Expected version 1, actual version 2"}"#, &[])),
        Error::PreconditionFailed(m) if m.contains("Expected version 1")
    ));
    assert!(matches!(
        status_error(&reply(
            422,
            r#"{"status":422,"message":"Expected version 3, actual version 4"}"#,
            &[]
        )),
        Error::PreconditionFailed(_)
    ));
    assert!(matches!(
        status_error(&reply(422, r#"{"status":422,"message":"Failed to validate record: field active required"}"#, &[])),
        Error::Invalid(m) if m == "DataHub validation failed"
    ));
    assert!(matches!(status_error(&reply(400, "", &[])), Error::Invalid(m) if m == "HTTP 400"));
    match status_error(&reply(503, "{}", &[("retry-after", "7")])) {
        Error::Unavailable { retry_after, .. } => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)))
        }
        e => panic!("{e:?}"),
    }
    assert!(matches!(
        status_error(&reply(429, "", &[])),
        Error::Throttled { retry_after: None }
    ));
    match status_error(&reply(
        429,
        r#"{"error":"Rate limit exceeded"}"#,
        &[("retry-after", "2")],
    )) {
        Error::Throttled { retry_after } => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(2)))
        }
        e => panic!("{e:?}"),
    }
    assert!(matches!(
        status_error(&reply(500, "<html>", &[])),
        Error::Unavailable {
            retry_after: None,
            timeout: false,
            ..
        }
    ));
    assert!(
        status_error(&reply(504, "", &[])).is_timeout(),
        "a gateway timeout in front of GMS is a timeout"
    );
}

/// A Rest.li 422 as DataHub 1.x answers a lost `If-Version-Match`: the message is the
/// bare `ValidationExceptionCollection` (EntityServiceImpl pre-commit validation), each
/// `AspectValidationException` printing its whole `ChangeItemImpl` item (aspect value
/// included) before `subType=PRECONDITION`; the Rest.li body repeats it in `stackTrace`.
fn real_422(sub_type: &str, msg: &str) -> String {
    let item = "ChangeItemImpl{changeType=UPSERT, auditStamp={actor=urn:li:corpuser:datahub, time=1760000000000}, \
        systemMetadata={lastObserved=1760000000000, runId=datahub-scim, properties={appSource=datahub-scim}}, \
        recordTemplate={customProperties={scim.userName=jane.doe@example.com, scim.managed=true, scim.externalId=00u1abcd}, \
        active=true, displayName=Jane Doe, email=jane.doe@example.com, firstName=Jane, lastName=Doe, fullName=Jane Doe, \
        title=Senior Data Engineer, departmentName=Data Platform}, aspectName='corpUserInfo', urn=urn:li:corpuser:jane.doe@example.com}";
    let message = format!(
        "ValidationExceptionCollection{{EntityAspect:(urn:li:corpuser:jane.doe@example.com,corpUserInfo) Exceptions: \
         [AspectValidationException(item={item}, changeType=UPSERT, entityUrn=urn:li:corpuser:jane.doe@example.com, \
         aspectName=corpUserInfo, subType={sub_type}, msg={msg})]}}"
    );
    json!({
        "exceptionClass": "com.linkedin.restli.server.RestLiServiceException",
        "stackTrace": format!("com.linkedin.restli.server.RestLiServiceException [HTTP Status:422]: {message}\n\tat com.linkedin.metadata.resources.restli.RestliUtils.toTask(RestliUtils.java:61)"),
        "message": message,
        "status": 422,
    })
    .to_string()
}

#[test]
fn a_lost_race_is_found_anywhere_in_datahubs_real_422_and_no_person_leaks() {
    let body = real_422("PRECONDITION", "Expected version 3, actual version 4");
    let msg: Value = serde_json::from_str(&body).expect("json");
    let at = msg["message"]
        .as_str()
        .expect("message")
        .find("subType=PRECONDITION")
        .expect("present");
    assert!(
        at > 500,
        "the subtype lands {at} characters in, past any 500-char cut"
    );
    let r = reply(422, &body, &[("x-restli-error-response", "true")]);
    match status_error(&r) {
        Error::PreconditionFailed(summary) => {
            assert_eq!(
                summary,
                "DataHub validation failed (PRECONDITION) on corpUserInfo: Expected version 3, actual version 4"
            );
        }
        e => panic!("{e:?}"),
    }
    // A validation failure of the same layout is Invalid, summarized without the value.
    let body = real_422("VALIDATION", "field active is required");
    match status_error(&reply(422, &body, &[])) {
        Error::Invalid(summary) => {
            assert_eq!(
                summary,
                "DataHub validation failed (VALIDATION) on corpUserInfo"
            );
        }
        e => panic!("{e:?}"),
    }
    // Neither variant, nor its Display, carries the person from the aspect value.
    for sub in ["PRECONDITION", "VALIDATION"] {
        let e = status_error(&reply(422, &real_422(sub, "x"), &[]));
        let shown = format!("{e} {e:?}");
        for secret in ["jane", "Jane", "Doe", "example.com", "00u1abcd", "Senior"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
}
