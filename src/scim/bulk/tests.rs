//! The BulkRequest parser, `bulkId` references and the run plan, against RFC 7644
//! §3.7's own examples (`fixtures/rfc/7644-3.7*.json`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn parse(v: &Value) -> BulkRequest {
    BulkRequest::from_json(v, 1000).expect("a valid BulkRequest")
}

#[test]
fn rfc_3_7_2_references_are_found_and_replaced() {
    let req = parse(&fixture(include_str!(
        "../fixtures/rfc/7644-3.7.2-bulkid-request.json"
    )));
    assert_eq!(req.fail_on_errors, None);
    let [alice, group] = &req.operations[..] else {
        panic!("two operations")
    };
    assert_eq!(alice.method, Some(Method::Post));
    assert_eq!(alice.bulk_id.as_deref(), Some("qwerty"));
    assert!(alice.invalid.is_none() && group.invalid.is_none());
    assert!(references(alice).is_empty());
    assert_eq!(references(group), ["qwerty".to_string()].into());
    let ids = BTreeMap::from([("qwerty".to_string(), "QWxpY2U".to_string())]);
    let (path, data) = substitute(group, &ids);
    assert_eq!(path, "/Groups");
    assert_eq!(data.expect("data")["members"][0]["value"], json!("QWxpY2U"));
    let p = plan(&req.operations);
    assert_eq!(p.order, vec![0, 1]);
    assert!(p.circular.is_empty());

    // The enterprise manager reference of the same section.
    let req = parse(&fixture(include_str!(
        "../fixtures/rfc/7644-3.7.2-manager-request.json"
    )));
    assert_eq!(
        references(&req.operations[1]),
        ["qwerty".to_string()].into()
    );
}

#[test]
fn rfc_3_7_1_circular_references_are_found_before_anything_runs() {
    let req = parse(&fixture(include_str!(
        "../fixtures/rfc/7644-3.7.1-circular-request.json"
    )));
    let p = plan(&req.operations);
    assert_eq!(p.circular, [0, 1].into());
    assert_eq!(p.order.len(), 2, "every operation is planned once");
}

#[test]
fn forward_references_run_the_defining_operation_first() {
    let body = json!({"Operations": [
        {"method": "PATCH", "path": "/Groups/Zw", "data": {"Operations": [
            {"op": "add", "path": "members", "value": [{"value": "bulkId:u"}]}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "u"}},
        {"method": "PUT", "path": "/Users/bulkId:u", "data": {"userName": "u"}},
        {"method": "DELETE", "path": "/Users/bulkId:self", "bulkId": "self"},
    ]});
    let req = parse(&body);
    let p = plan(&req.operations);
    assert_eq!(p.order, vec![1, 0, 2, 3]);
    assert_eq!(p.circular, [3].into(), "an operation naming its own bulkId");
    let ids = BTreeMap::from([("u".to_string(), "dQ".to_string())]);
    assert_eq!(substitute(&req.operations[2], &ids).0, "/Users/dQ");
}

#[test]
fn rfc_3_7_3_request_parses_with_its_errata() {
    let req = parse(&fixture(include_str!(
        "../fixtures/rfc/7644-3.7.3-request.json"
    )));
    assert_eq!(req.fail_on_errors, Some(1));
    let ops = &req.operations;
    assert_eq!(
        ops.iter().map(|o| o.method).collect::<Vec<_>>(),
        vec![
            Some(Method::Post),
            Some(Method::Put),
            Some(Method::Patch),
            Some(Method::Delete)
        ]
    );
    // `W\/"…"` in JSON is `W/"…"`.
    assert_eq!(ops[1].version.as_deref(), Some("W/\"3694e05e9dff591\""));
    assert_eq!(ops[3].version.as_deref(), Some("W/\"0ee8add0a938e1a\""));
    // The PATCH data is a bare operations array in the RFC's example: wrapped.
    let patch = ops[2].data.as_ref().expect("data");
    assert_eq!(patch["schemas"], json!([PATCH_OP]));
    assert_eq!(patch["Operations"][1]["value"], json!("Dave"));
    assert!(ops.iter().all(|o| o.invalid.is_none()));
}

#[test]
fn envelope_and_operation_errors() {
    let e = BulkRequest::from_json(&json!([]), 10).expect_err("not an object");
    assert_eq!(
        (e.status, e.scim_type),
        (400, Some(crate::scim::ScimType::InvalidSyntax))
    );
    let e = BulkRequest::from_json(&json!({"schemas": [BULK_REQUEST]}), 10).expect_err("no ops");
    assert_eq!(e.status, 400);
    let e = BulkRequest::from_json(&json!({"failOnErrors": 0, "Operations": []}), 10)
        .expect_err("failOnErrors 0");
    assert_eq!(e.scim_type, Some(crate::scim::ScimType::InvalidValue));
    let many = json!({"Operations": vec![json!({"method": "DELETE", "path": "/Users/x"}); 3]});
    let e = BulkRequest::from_json(&many, 2).expect_err("too many");
    assert_eq!((e.status, e.scim_type), (413, None));
    assert_eq!(
        e.detail,
        "The number of operations exceeds the maxOperations (2)."
    );
    let want = fixture(include_str!(
        "../fixtures/rfc/7644-3.7.4-error-too-large.json"
    ));
    assert_eq!(payload_too_large(1_048_576).to_body(), want);

    let req = parse(&json!({"operations": [
        {"method": "GET", "path": "/Users/x"},
        {"method": "POST", "path": "/Users", "data": {"userName": "a"}},
        {"method": "PUT", "path": "/Users/x"},
        {"method": "delete", "path": "Users/x?attributes=id"},
        {"method": "post", "path": "Users", "bulkId": "b", "data": {"userName": "b"}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "c"}},
        "not an object",
    ]}));
    let errs: Vec<Option<u16>> = req
        .operations
        .iter()
        .map(|o| o.invalid.as_ref().map(|e| e.status))
        .collect();
    assert_eq!(
        errs,
        vec![
            Some(400),
            Some(400),
            Some(400),
            Some(400),
            None,
            Some(400),
            Some(400)
        ]
    );
    assert_eq!(req.operations[4].path, "/Users", "a leading slash is added");
    assert_eq!(req.operations[4].method_text, "POST");
}

#[test]
fn response_shape_is_the_rfc_3_7_2_one() {
    let results = [
        OpResult {
            method: "POST".into(),
            bulk_id: Some("qwerty".into()),
            location: Some(
                "https://example.com/v2/Users/92b725cd-9465-4e7d-8c16-01f8e146b87a".into(),
            ),
            version: Some("W/\"4weymrEsh5O6cAEK\"".into()),
            status: 201,
            response: None,
        },
        OpResult {
            method: "POST".into(),
            bulk_id: Some("ytrewq".into()),
            location: Some(
                "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a".into(),
            ),
            version: Some("W/\"lha5bbazU3fNvfe5\"".into()),
            status: 201,
            response: None,
        },
    ];
    let want = fixture(include_str!(
        "../fixtures/rfc/7644-3.7.2-bulkid-response.json"
    ));
    assert_eq!(response(&results), want);
}
