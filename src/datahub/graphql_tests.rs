//! GraphQL documents against DataHub's schema files, request variables, and
//! response / error parsing.

use super::*;
use crate::datahub::relationships::{
    page_of, relationship_variables, Related, RelatedEntity, RelatedPage,
};
use crate::datahub::{EntityKind, FacetFilter, ScrollRequest};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

/// DataHub's four schema files merged into one schema. Those files reference
/// types defined in upstream files we do not have, so full schema validation
/// is expected to fail; then the merged schema is used as is (each executable
/// document is still fully validated against it, so a field, argument or
/// variable type our documents use that the schema lacks is caught).
fn datahub_schema() -> Option<Valid<Schema>> {
    let dir = super::super::reference_dir("datahub-graphql")?;
    let mut builder = Schema::builder();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read schema dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "expected app, auth, entity, search");
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read schema file");
        builder = builder.parse(text, path);
    }
    let schema = match builder.build() {
        Ok(s) => s,
        Err(with_errors) => {
            eprintln!("schema build: {} diagnostics", with_errors.errors.len());
            with_errors.partial
        }
    };
    Some(match schema.clone().validate() {
        Ok(valid) => valid,
        Err(with_errors) => {
            eprintln!(
                "schema validation: {} diagnostics (types defined in upstream files not copied); \
                 validating documents against the merged schema as is",
                with_errors.errors.len()
            );
            Valid::assume_valid(schema)
        }
    })
}

#[test]
fn documents_validate_against_datahub_schema() {
    let Some(schema) = datahub_schema() else {
        return;
    };
    for (name, doc) in documents::ALL {
        if let Err(e) =
            ExecutableDocument::parse_and_validate(&schema, *doc, format!("{name}.graphql"))
        {
            panic!("{name} does not validate:\n{}", e.errors);
        }
        assert!(
            doc.contains(&format!("query {name}")),
            "{name}: operation name"
        );
    }
    // The aliased many-groups document, at a few sizes; and a search with sortInput.
    for n in [1, 2, 37, crate::datahub::MEMBERS_MANY_MAX] {
        let doc = documents::group_members_many(n);
        if let Err(e) =
            ExecutableDocument::parse_and_validate(&schema, &doc, format!("groupMembersMany{n}"))
        {
            panic!("groupMembersMany({n}) does not validate:\n{}", e.errors);
        }
        assert!(doc.contains(&format!("g{}: corpGroup(urn: $u{})", n - 1, n - 1)));
    }
    // Both member lists read the same of each member (names, custom properties).
    assert!(documents::GROUP_MEMBERS.contains(documents::MEMBER_ENTITY));
    assert!(documents::group_members_many(2).contains(documents::MEMBER_ENTITY));
    // The check has teeth: a wrong field or input type is refused.
    for bad in [
        "query me { me { corpUser { urn nope } } }",
        "query q($i: NoSuchInput!) { listUsers(input: $i) { total } }",
        "query q($i: ListGroupsInput!) { listUsers(input: $i) { total } }",
    ] {
        assert!(
            ExecutableDocument::parse_and_validate(&schema, bad, "bad.graphql").is_err(),
            "{bad}"
        );
    }
}

#[test]
fn search_variables_match_the_reference_example() {
    let req = SearchRequest {
        types: vec![EntityKind::CorpUser],
        query: "*".into(),
        or_filters: vec![vec![FacetFilter::equal("email", "jdoe@example.com")]],
        start: 0,
        count: 10,
        include_soft_deleted: false,
        sort_by_urn: false,
    };
    assert_eq!(
        search_variables(&req),
        json!({"input": {
            "types": ["CORP_USER"], "query": "*", "start": 0, "count": 10,
            "searchFlags": {"includeSoftDeleted": false},
            "orFilters": [{"and": [{"field": "email", "values": ["jdoe@example.com"],
                                    "condition": "EQUAL", "negated": false}]}]
        }})
    );
    let req = SearchRequest {
        types: vec![EntityKind::CorpGroup],
        or_filters: vec![
            vec![FacetFilter::iequal("name", "eng")],
            vec![FacetFilter {
                negated: true,
                ..FacetFilter::equal("removed", "true")
            }],
        ],
        include_soft_deleted: true,
        ..req
    };
    let v = search_variables(&req);
    assert_eq!(v["input"]["types"], json!(["CORP_GROUP"]));
    assert_eq!(v["input"]["orFilters"][0]["and"][0]["condition"], "IEQUAL");
    assert_eq!(v["input"]["orFilters"][1]["and"][0]["negated"], true);
    assert_eq!(v["input"]["searchFlags"]["includeSoftDeleted"], true);
    assert!(v["input"].get("sortInput").is_none());
    let v = search_variables(&SearchRequest {
        sort_by_urn: true,
        ..req
    });
    assert_eq!(
        v["input"]["sortInput"],
        json!({"sortCriteria": [{"field": "urn", "sortOrder": "ASCENDING"}]})
    );
}

#[test]
fn relationship_variables_shape() {
    assert_eq!(
        relationship_variables(&Urn::corp_group("eng"), "INCOMING", 20, 50),
        json!({"urn": "urn:li:corpGroup:eng", "input": {
            "types": ["IsMemberOfGroup", "IsMemberOfNativeGroup"],
            "direction": "INCOMING", "start": 20, "count": 50}})
    );
}

#[test]
fn graphql_errors_map_by_extension_code() {
    let body = |code: Value| {
        json!({"data": null, "errors": [{"message": "Unauthorized to perform this action. Please contact your DataHub administrator.",
            "locations": [{"line": 1, "column": 10}], "path": ["listGroups"],
            "extensions": {"code": code, "type": "X", "classification": "DataFetchingException"}}]})
        .to_string()
    };
    let p = |code: Value| parse_response::<Value>("op", body(code).as_bytes());
    assert!(
        matches!(p(json!(403)), Err(Error::Forbidden(m)) if m.starts_with("Unauthorized to perform"))
    );
    assert!(matches!(p(json!(404)), Err(Error::NotFound(_))));
    assert!(matches!(p(json!(409)), Err(Error::Conflict(_))));
    assert!(matches!(p(json!(400)), Err(Error::Invalid(_))));
    assert!(matches!(p(json!(503)), Err(Error::Unavailable { .. })));
    assert!(matches!(p(json!(500)), Err(Error::Unavailable { .. })));
    assert!(matches!(p(json!("403")), Err(Error::Forbidden(_))));
    // No code (e.g. a graphql-java validation error): invalid request.
    let no_code = json!({"errors": [{"message": "Validation error"}]}).to_string();
    assert!(matches!(
        parse_response::<Value>("op", no_code.as_bytes()),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        parse_response::<Value>("op", b"{}"),
        Err(Error::InvalidResponse(_))
    ));
    assert!(matches!(
        parse_response::<Value>("op", b"<html>"),
        Err(Error::InvalidResponse(_))
    ));
}

#[test]
fn pages_parse_from_all_three_shapes() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        search_across_entities: RawPage,
        list_users: RawPage,
        list_groups: RawPage,
    }
    let body = json!({"data": {
        "searchAcrossEntities": {"start": 0, "count": 1, "total": 3,
            "searchResults": [{"entity": {"urn": "urn:li:corpuser:a b"}}]},
        "listUsers": {"start": 5, "count": 2, "total": 7,
            "users": [{"urn": "urn:li:corpuser:x"}, {"urn": "urn:li:corpuser:y"}]},
        "listGroups": {"start": 0, "count": 0, "total": 0, "groups": []}
    }})
    .to_string();
    let d: Data = parse_response("op", body.as_bytes()).expect("parse");
    let s = d.search_across_entities.into_page("s").expect("page");
    assert_eq!((s.start, s.count, s.total), (0, 1, 3));
    assert_eq!(s.urns, vec![Urn::corp_user("a b")]);
    let u = d.list_users.into_page("u").expect("page");
    assert_eq!(u.urns, vec![Urn::corp_user("x"), Urn::corp_user("y")]);
    assert_eq!(u.total, 7);
    assert!(d.list_groups.into_page("g").expect("page").urns.is_empty());
}

#[test]
fn relationships_parse_and_skip_null_entities() {
    let group = json!({"relationships": {"start": 0, "count": 4, "total": 4, "relationships": [
        {"type": "IsMemberOfGroup", "entity": {"urn": "urn:li:corpuser:a"}},
        {"type": "IsMemberOfNativeGroup", "entity": {"urn": "urn:li:corpuser:b"}},
        {"type": "IsMemberOfGroup", "entity": null},
        {"type": "IsMemberOfGroup", "entity": {"urn": "urn:li:corpuser:c", "username": "c",
            "properties": {"displayName": "Cee", "fullName": null, "customProperties": [
                {"key": "scim.id", "value": "b2xk"}, {"key": "k", "value": null}]},
            "editableProperties": null}}
    ]}});
    // As `Client::related` reads it: the response bytes straight into the entity type.
    let body = json!({"data": {"corpGroup": group}}).to_string();
    let mut d: std::collections::HashMap<String, Option<RelatedEntity>> =
        parse_response("groupMembers", body.as_bytes()).expect("parse");
    let p = page_of(d.remove("corpGroup").flatten());
    assert_eq!(p.total, 4);
    assert_eq!(
        p.related,
        vec![
            Related {
                urn: Urn::corp_user("a"),
                relationship: "IsMemberOfGroup".into(),
                user: None,
            },
            Related {
                urn: Urn::corp_user("b"),
                relationship: "IsMemberOfNativeGroup".into(),
                user: None,
            },
            Related {
                urn: Urn::corp_user("c"),
                relationship: "IsMemberOfGroup".into(),
                user: Some(crate::datahub::RelatedUser {
                    username: Some("c".into()),
                    display_name: Some("Cee".into()),
                    full_name: None,
                    editable_display_name: None,
                    custom_properties: [("scim.id", "b2xk"), ("k", "")]
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                }),
            },
        ]
    );
    assert_eq!(page_of(None), RelatedPage::default());
    let null: std::collections::HashMap<String, Option<RelatedEntity>> =
        parse_response("x", br#"{"data": {"corpGroup": null}}"#).expect("parse");
    assert_eq!(
        page_of(null.into_values().next().flatten()),
        RelatedPage::default()
    );
}

#[test]
fn scroll_variables_walk_in_urn_order_without_keep_alive() {
    let req = ScrollRequest {
        types: vec![EntityKind::CorpUser],
        or_filters: vec![vec![FacetFilter::equal(
            "customProperties",
            "scim.managed=true",
        )]],
        scroll_id: None,
        count: 100,
    };
    let v = crate::datahub::search::scroll_variables(&req);
    assert_eq!(
        v,
        json!({"input": {
            "types": ["CORP_USER"], "query": "*", "count": 100,
            "searchFlags": {"includeSoftDeleted": false},
            "sortInput": {"sortCriteria": [{"field": "urn", "sortOrder": "ASCENDING"}]},
            "orFilters": [{"and": [{"field": "customProperties", "values": ["scim.managed=true"],
                                    "condition": "EQUAL", "negated": false}]}]
        }})
    );
    let v = crate::datahub::search::scroll_variables(&ScrollRequest {
        scroll_id: Some("eyJzb3J0Ijpb".into()),
        count: 50_000,
        or_filters: vec![],
        ..req
    });
    assert_eq!(v["input"]["scrollId"], "eyJzb3J0Ijpb");
    assert_eq!(
        v["input"]["count"], 10_000,
        "never above DataHub's result limit"
    );
    assert!(v["input"].get("orFilters").is_none());
    assert!(v["input"].get("keepAlive").is_none());
}

#[tokio::test]
async fn scroll_reads_the_exact_total_from_the_entity_type_facet() {
    use crate::datahub::test_server::{client, seen, serve, Act};
    let page = json!({"data": {"scrollAcrossEntities": {
    "nextScrollId": "eyJzb3J0IjpbInVybjpsaTpjb3JwdXNlcjpiIl0sInBpdElkIjpudWxsLCJleHBpcmF0aW9uVGltZSI6MH0=",
    "count": 2, "total": 10000,
    "searchResults": [{"entity": {"urn": "urn:li:corpuser:a"}}, {"entity": {"urn": "urn:li:corpuser:b"}}],
    "facets": [
        {"field": "_entityType", "aggregations": [{"value": "CORP_USER", "count": 15000}]},
        {"field": "entity", "aggregations": [{"value": "CORP_USER", "count": 15000}]}
    ]}}});
    let last = json!({"data": {"scrollAcrossEntities": {
        "nextScrollId": null, "count": 2, "total": 1,
        "searchResults": [{"entity": {"urn": "urn:li:corpuser:z"}}],
        "facets": [{"field": "entity", "aggregations": [{"value": "corpuser", "count": 1}]}]}}});
    let no_facets = json!({"data": {"scrollAcrossEntities": {
        "nextScrollId": null, "count": 0, "total": 10000, "searchResults": []}}});
    let (base, script) = serve(vec![
        Act::Reply(200, page.to_string()),
        Act::Reply(200, last.to_string()),
        Act::Reply(200, no_facets.to_string()),
    ])
    .await;
    let (c, _) = client(&base);
    let req = ScrollRequest {
        types: vec![EntityKind::CorpUser],
        or_filters: vec![],
        scroll_id: None,
        count: 2,
    };
    let p = c.scroll("t", &req).await.expect("scroll");
    assert_eq!(p.urns, [Urn::corp_user("a"), Urn::corp_user("b")]);
    assert_eq!(
        (p.total, p.exact_total, p.matches()),
        (10_000, Some(15_000), 15_000)
    );
    assert!(p.next_scroll_id.is_some());
    let p = c.scroll("t", &req).await.expect("scroll");
    assert_eq!(
        (p.exact_total, p.next_scroll_id),
        (Some(1), None),
        "the `entity` twin facet, any spelling"
    );
    let p = c.scroll("t", &req).await.expect("scroll");
    assert_eq!(
        (p.exact_total, p.matches()),
        (None, 10_000),
        "no facets: the capped total"
    );
    let s = seen(&script);
    assert_eq!(s[0].json()["operationName"], "scrollAcrossEntities");
    assert!(s[0].json()["query"].as_str().expect("q").contains("facets"));
}
