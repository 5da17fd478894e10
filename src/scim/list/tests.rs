//! Lists: query strings as IdPs send them, search bodies, ListResponse, projection,
//! sorting.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::cmp::Ordering;

use serde_json::{json, Value};

use super::*;
use crate::scim::error::ScimType;
use crate::scim::path::AttrPath;
use crate::scim::resource::{Meta, User};
use crate::scim::schema::{ResourceKind, ENTERPRISE_URN};

fn q(s: &str) -> ListQuery {
    ListQuery::from_query_string(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn bjensen() -> Value {
    let f: Value = serde_json::from_str(include_str!(
        "../fixtures/rfc/7643-8.3-enterprise-user.json"
    ))
    .unwrap();
    User::from_json(&f)
        .unwrap()
        .to_json("2819c223-7f76-453a-919d-413861904646", &Meta::default())
}

#[test]
fn okta_and_entra_query_strings() {
    let a = q("filter=userName%20eq%20%22jane.doe%40example.com%22&startIndex=1&count=100");
    let b = q("filter=userName+eq+%22jane.doe%40example.com%22&startIndex=1&count=100");
    assert_eq!(a, b);
    let (path, v) = a.filter.as_ref().unwrap().as_simple_eq().unwrap();
    assert!(path.is(ResourceKind::User, "userName"));
    assert_eq!(v, "jane.doe@example.com");
    assert_eq!((a.start_index, a.count), (1, Some(100)));
    let e = q("aadOptscim062020&excludedAttributes=members&filter=displayName+eq+%22Sales%22");
    assert_eq!(e.excluded_attributes, [AttrPath::new("members")]);
    assert!(e.filter.is_some());
    let plain = q(r#"filter=userName eq "f9a6e6c3-1c37-4f6a-b0a5-1f3cbbd2d2aa""#);
    assert!(plain.filter.is_some());
    assert_eq!(q(""), ListQuery::default());
    assert_eq!(q("?startIndex=2&count=2").start_index, 2);
}

#[test]
fn parameter_names_case_insensitive_and_bounds() {
    let x = q("STARTINDEX=0&Count=-5&SortBy=userName&sortOrder=Descending&ATTRIBUTES=userName,name.givenName");
    assert_eq!(x.start_index, 1);
    assert_eq!(x.count, Some(0));
    assert_eq!(x.sort_by, Some(AttrPath::new("userName")));
    assert_eq!(x.sort_order, SortOrder::Descending);
    assert_eq!(
        x.attributes,
        [
            AttrPath::new("userName"),
            AttrPath::with_sub("name", "givenName")
        ]
    );
    assert_eq!(q("startIndex=-3").start_index, 1);
    assert_eq!(q("count=100000").count, Some(MAX_COUNT));
    let bad = |s: &str| ListQuery::from_query_string(s).unwrap_err();
    assert_eq!(
        bad("filter=userName+eq").scim_type,
        Some(ScimType::InvalidFilter)
    );
    assert_eq!(
        bad("startIndex=abc").scim_type,
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        bad("sortOrder=sideways").scim_type,
        Some(ScimType::InvalidValue)
    );
    assert_eq!(bad("filter=%FF").scim_type, Some(ScimType::InvalidSyntax));
}

#[test]
fn rfc_search_request() {
    let body: Value = serde_json::from_str(include_str!(
        "../fixtures/rfc/7644-3.4.3-search-request.json"
    ))
    .unwrap();
    let s = ListQuery::from_search_body(&body).unwrap();
    assert_eq!(
        s.attributes,
        [AttrPath::new("displayName"), AttrPath::new("userName")]
    );
    assert_eq!(s.filter.unwrap().to_string(), r#"displayName sw "smith""#);
    assert_eq!((s.start_index, s.count), (1, Some(10)));
    assert!(ListQuery::from_search_body(&json!({"schemas": ["urn:x"]})).is_err());
    assert_eq!(
        ListQuery::from_search_body(&json!({"count": -1}))
            .unwrap()
            .count,
        Some(0)
    );
}

#[test]
fn empty_list_response_is_complete() {
    assert_eq!(
        list_response(0, 1, vec![]),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
               "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );
}

/// RFC 7644 §3.4.2.4: `GET /Users?startIndex=1&count=10` over 100 users.
#[test]
fn rfc_pagination_example() {
    let page = q("startIndex=1&count=10");
    assert_eq!((page.start_index, page.count), (1, Some(10)));
    let resources: Vec<Value> = (0..10).map(|i| json!({"id": i.to_string()})).collect();
    let v = list_response(100, page.start_index, resources);
    assert_eq!(v["totalResults"], 100);
    assert_eq!(v["itemsPerPage"], 10);
    assert_eq!(v["startIndex"], 1);
    assert_eq!(v["Resources"].as_array().unwrap().len(), 10);
}

#[test]
fn rfc_list_response_with_attributes_user_name() {
    let want: Value = serde_json::from_str(include_str!(
        "../fixtures/rfc/7644-3.4.2-list-response.json"
    ))
    .unwrap();
    let query = q("attributes=userName");
    let mut users: Vec<Value> = [
        ("2819c223-7f76-453a-919d-413861904646", "bjensen"),
        ("c75ad752-64ae-4823-840d-ffa80929976c", "jsmith"),
    ]
    .iter()
    .map(|(id, n)| {
        let mut u = User::new(*n);
        u.title = Some("t".into());
        u.to_json(id, &Meta::default())
    })
    .collect();
    for u in &mut users {
        project(
            u,
            &query.attributes,
            &query.excluded_attributes,
            ResourceKind::User,
        );
    }
    let got = list_response(2, 1, users);
    assert_eq!(got["totalResults"], want["totalResults"]);
    for (g, w) in got["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["Resources"].as_array().unwrap())
    {
        // The RFC's example leaves out `schemas`; RFC 7643 §3 makes it required, so we keep it.
        let mut g = g.clone();
        assert_eq!(
            g.as_object_mut().unwrap().shift_remove("schemas"),
            Some(json!(["urn:ietf:params:scim:schemas:core:2.0:User"]))
        );
        assert_eq!(&g, w);
    }
}

#[test]
fn projection_paths() {
    let p = |attrs: &str, excl: &str| {
        let mut u = bjensen();
        let pr =
            Projection::from_query_string(&format!("attributes={attrs}&excludedAttributes={excl}"))
                .unwrap();
        pr.apply(&mut u, ResourceKind::User);
        u
    };
    let u = p("name.givenName,emails.value", "");
    assert_eq!(u["name"], json!({"givenName": "Barbara"}));
    assert_eq!(
        u["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
    assert!(u.get("userName").is_none() && u.get("id").is_some() && u.get("schemas").is_some());
    let u = p(
        &format!("{ENTERPRISE_URN}:department,urn:ietf:params:scim:schemas:core:2.0:User:userName"),
        "",
    );
    assert_eq!(u[ENTERPRISE_URN], json!({"department": "Tour Operations"}));
    assert_eq!(u["userName"], "bjensen@example.com");
    let u = p(ENTERPRISE_URN, "");
    assert_eq!(
        u[ENTERPRISE_URN]["manager"]["value"],
        "26118915-6090-4610-87e4-49d8ca9f808d"
    );
    let u = p(
        "",
        &format!("emails,name.middleName,id,{ENTERPRISE_URN}:manager"),
    );
    assert!(u.get("emails").is_none());
    assert!(u["name"].get("middleName").is_none() && u["name"]["givenName"] == "Barbara");
    assert!(u.get("id").is_some(), "id is always returned");
    assert!(
        u[ENTERPRISE_URN].get("manager").is_none()
            && u[ENTERPRISE_URN]["department"] == "Tour Operations"
    );
    let mut with_password = json!({"id": "1", "userName": "a", "password": "x"});
    project(&mut with_password, &[], &[], ResourceKind::User);
    assert!(with_password.get("password").is_none());
}

#[test]
fn projection_excludes_members() {
    let pr = Projection::from_query_string("excludedAttributes=members&filter=x").unwrap();
    assert!(pr.excludes("members", ResourceKind::Group));
    assert!(!pr.excludes("displayName", ResourceKind::Group));
    let only = Projection::from_query_string("attributes=displayName").unwrap();
    assert!(only.excludes("members", ResourceKind::Group));
    assert!(!only.excludes("id", ResourceKind::Group));
    let mut g: Value =
        serde_json::from_str(include_str!("../fixtures/rfc/7643-8.4-group.json")).unwrap();
    pr.apply(&mut g, ResourceKind::Group);
    assert!(g.get("members").is_none() && g["displayName"] == "Tour Guides");
}

#[test]
fn sorting_follows_case_exactness_and_puts_missing_last() {
    let u = |name: &str, ext: Option<&str>| json!({"userName": name, "externalId": ext});
    let by = AttrPath::new("userName");
    assert_eq!(
        compare(&u("alice", None), &u("Bob", None), &by, ResourceKind::User),
        Ordering::Less
    );
    let ext = AttrPath::new("externalId");
    assert_eq!(
        compare(
            &u("a", Some("b")),
            &u("a", Some("B")),
            &ext,
            ResourceKind::User
        ),
        Ordering::Greater,
        "caseExact"
    );
    assert_eq!(
        compare(&u("a", None), &u("a", Some("x")), &ext, ResourceKind::User),
        Ordering::Greater
    );
    let mut list = vec![u("c", None), u("A", None), u("b", None)];
    let mut query = q("sortBy=userName");
    query.sort(&mut list, ResourceKind::User);
    assert_eq!(
        list.iter()
            .map(|x| x["userName"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["A", "b", "c"]
    );
    query.sort_order = SortOrder::Descending;
    query.sort(&mut list, ResourceKind::User);
    assert_eq!(list[0]["userName"], "c");
    let e = |primary: &str, other: &str| json!({"emails": [{"value": other}, {"value": primary, "primary": true}]});
    assert_eq!(
        compare(
            &e("a@x", "z@x"),
            &e("b@x", "a@x"),
            &AttrPath::new("emails"),
            ResourceKind::User
        ),
        Ordering::Less
    );
}

#[test]
fn cursor_paging_rfc_9865() {
    // The first page: an empty cursor (`cursor` or `cursor=`); later pages echo nextCursor.
    assert_eq!(q("cursor").cursor.as_deref(), Some(""));
    assert_eq!(q("cursor=&count=50").cursor.as_deref(), Some(""));
    assert_eq!(q("count=50").cursor, None, "no cursor: index paging");
    assert_eq!(
        q("Cursor=djEuYWJj-_.~").cursor.as_deref(),
        Some("djEuYWJj-_.~")
    );
    let bad = |s: &str| ListQuery::from_query_string(s).unwrap_err();
    let both = bad("cursor=&startIndex=1");
    assert_eq!(both.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(bad("startIndex=5&cursor=abc").status, 400);
    let junk = bad("cursor=a%20b");
    assert_eq!(junk.scim_type, Some(ScimType::InvalidCursor));
    // In a search body too.
    let s = ListQuery::from_search_body(&json!({"cursor": "", "count": 10})).unwrap();
    assert_eq!((s.cursor.as_deref(), s.count), (Some(""), Some(10)));
    let e = ListQuery::from_search_body(&json!({"cursor": "x", "startIndex": 3})).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));

    let page = cursor_list_response(3, vec![json!({"id": "a"})], Some("next".into()));
    assert_eq!(page["nextCursor"], "next");
    assert_eq!(page["totalResults"], 3);
    assert_eq!(page["itemsPerPage"], 1);
    assert!(page.get("startIndex").is_none());
    let last = cursor_list_response(3, vec![], None);
    assert!(last.get("nextCursor").is_none());
}
