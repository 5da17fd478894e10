//! entitiesV2 batch URLs, chunking and response parsing.

use super::super::aspects::{CorpUserInfo, GroupMembership};
use super::*;
use serde_json::json;

#[test]
fn batch_path_encodes_every_urn_inside_list() {
    let urns = [
        Urn::corp_user("jdoe@example.com"),
        Urn::corp_group("a,b(c)d%e/f+g h"),
        Urn::corp_user("Jö"),
    ];
    assert_eq!(
        batch_get_path(&urns, &["corpUserInfo", "groupMembership"]),
        "/entitiesV2?ids=List(urn%3Ali%3Acorpuser%3Ajdoe%40example.com,\
         urn%3Ali%3AcorpGroup%3Aa%2Cb%28c%29d%25e%2Ff%2Bg%20h,\
         urn%3Ali%3Acorpuser%3AJ%C3%B6)&aspects=List(corpUserInfo,groupMembership)"
    );
}

#[test]
fn chunks_by_count_and_length() {
    let many: Vec<Urn> = (0..250).map(|i| Urn::corp_user(&format!("u{i}"))).collect();
    let c = chunks(&many);
    assert_eq!(
        c.iter().map(|c| c.len()).collect::<Vec<_>>(),
        vec![100, 100, 50]
    );
    let long: Vec<Urn> = (0..40)
        .map(|i| Urn::corp_user(&format!("{i}-{}", "é".repeat(100))))
        .collect();
    let c = chunks(&long);
    assert!(c.len() > 1);
    assert_eq!(c.iter().map(|c| c.len()).sum::<usize>(), 40);
    for part in c {
        let ids: usize = part.iter().map(|u| u.encoded().len() + 1).sum();
        assert!(ids <= MAX_IDS_LEN, "{ids}");
    }
    assert!(chunks(&[]).is_empty());
}

/// A batch answer as GMS gives it: one real user with versions, one urn with
/// only the synthesized key.
fn sample() -> Vec<u8> {
    json!({
        "results": {
            "urn%3Ali%3Acorpuser%3Ajdoe": {
                "entityName": "corpuser",
                "urn": "urn:li:corpuser:jdoe",
                "aspects": {
                    "corpUserKey": {"name": "corpUserKey", "type": "VERSIONED", "version": 0,
                        "value": {"username": "jdoe"},
                        "created": {"actor": "urn:li:corpuser:__datahub_system", "time": 1}},
                    "corpUserInfo": {"name": "corpUserInfo", "type": "VERSIONED", "version": 0,
                        "value": {"active": true, "displayName": "John Doe"},
                        "created": {"actor": "urn:li:corpuser:scim", "time": 1},
                        "systemMetadata": {"version": "3", "lastObserved": 1, "runId": "x"}},
                    "groupMembership": {"name": "groupMembership", "type": "VERSIONED", "version": 0,
                        "value": {"groups": ["urn:li:corpGroup:eng"]},
                        "systemMetadata": {"version": "1"}}
                }
            },
            "urn:li:corpuser:ghost": {
                "entityName": "corpuser",
                "urn": "urn:li:corpuser:ghost",
                "aspects": {
                    "corpUserKey": {"name": "corpUserKey", "type": "VERSIONED", "version": 0,
                        "value": {"username": "ghost"},
                        "created": {"actor": "urn:li:corpuser:__datahub_system", "time": 2}}
                }
            }
        },
        "statuses": {},
        "errors": {}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn parses_versions_and_drops_the_synthesized_key() {
    let got = parse_batch(&sample()).expect("parse");
    let jdoe = &got[&Urn::corp_user("jdoe")];
    assert!(jdoe.has_data());
    assert!(!jdoe.contains("corpUserKey"));
    assert_eq!(
        jdoe.aspect_names().collect::<Vec<_>>(),
        vec!["corpUserInfo", "groupMembership"]
    );
    let info = jdoe.get::<CorpUserInfo>().expect("typed").expect("present");
    assert_eq!(info.version.as_deref(), Some("3"));
    assert_eq!(info.value.display_name.as_deref(), Some("John Doe"));
    let gm = jdoe
        .get::<GroupMembership>()
        .expect("typed")
        .expect("present");
    assert_eq!(gm.value.groups, vec![Urn::corp_group("eng")]);
    assert_eq!(jdoe.write_precondition("groupMembership"), "1");
    assert_eq!(jdoe.write_precondition("status"), "-1");

    let ghost = &got[&Urn::corp_user("ghost")];
    assert!(!ghost.has_data(), "only a synthesized key means no data");
    assert!(ghost.get::<CorpUserInfo>().expect("ok").is_none());
}

#[test]
fn result_key_is_used_when_the_body_has_no_urn() {
    let body = json!({"results": {"urn%3Ali%3AcorpGroup%3AData%20Eng": {
        "aspects": {"corpGroupInfo": {"value": {"admins": [], "members": [], "groups": []},
                                      "systemMetadata": {"version": 2}}}}}})
    .to_string();
    let got = parse_batch(body.as_bytes()).expect("parse");
    let g = &got[&Urn::corp_group("Data Eng")];
    assert_eq!(g.write_precondition("corpGroupInfo"), "2");
}

#[test]
fn per_entity_errors() {
    let e = |status: u16| {
        json!({"results": {}, "errors": {"urn:li:corpuser:x": {"status": status, "message": "m"}}})
            .to_string()
    };
    assert!(matches!(
        parse_batch(e(401).as_bytes()),
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        parse_batch(e(403).as_bytes()),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        parse_batch(e(500).as_bytes()),
        Err(Error::Unavailable { .. })
    ));
    // A 404 for one key just means that urn is absent.
    assert!(parse_batch(e(404).as_bytes()).expect("ok").is_empty());
    assert!(matches!(parse_batch(b"{}"), Err(Error::InvalidResponse(_))));
}

#[test]
fn bad_aspect_value_is_an_invalid_response() {
    let body = json!({"results": {"u": {"urn": "urn:li:corpuser:u",
        "aspects": {"corpUserInfo": {"value": {"displayName": 3}}}}}})
    .to_string();
    let got = parse_batch(body.as_bytes()).expect("parse");
    assert!(matches!(
        got[&Urn::corp_user("u")].get::<CorpUserInfo>(),
        Err(Error::InvalidResponse(_))
    ));
}

#[test]
fn an_aspect_stored_without_a_version_is_written_on_version_1() {
    // Aspects written before DataHub versioned them carry no systemMetadata.version;
    // ConditionalWriteValidator compares If-Version-Match against "1" for them, so a
    // read-modify-write of such an aspect must stay conditional on "1".
    let body = json!({"results": {"urn:li:corpuser:old": {"urn": "urn:li:corpuser:old",
        "aspects": {"corpUserInfo": {"value": {"active": true}},
                    "groupMembership": {"value": {"groups": []}, "systemMetadata": {"runId": "x"}}}}}})
    .to_string();
    let got = parse_batch(body.as_bytes()).expect("parse");
    let old = &got[&Urn::corp_user("old")];
    assert_eq!(old.write_precondition("corpUserInfo"), "1");
    assert_eq!(old.write_precondition("groupMembership"), "1");
    assert_eq!(old.write_precondition("status"), "-1");
}
