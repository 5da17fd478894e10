//! What each SCIM operation costs upstream: the exact GMS endpoint calls (emulator call
//! log, `call_counts()` after `reset_calls()`) for one operation in a fixed sequence,
//! with a warm token cache. The table is data so it doubles as documentation; it is
//! rendered into `docs/upstream-calls.md` and a test keeps the two identical. Adding 50
//! members must cost what adding 1 costs (membership writes are batched).

use std::collections::BTreeMap;

use serde_json::json;

use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::scim::*;

/// One SCIM operation and the GMS calls it makes, per emulator endpoint name.
struct Row {
    /// What the IdP does.
    op: &'static str,
    /// The SCIM request.
    request: &'static str,
    /// `endpoint → calls`.
    calls: &'static [(&'static str, u64)],
}

/// The table, in the order the test replays it (each row's state is what the rows
/// above it left).
const TABLE: &[Row] = &[
    Row {
        op: "create user",
        request: "POST /Users",
        calls: &[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "get user",
        request: "GET /Users/{id}",
        calls: &[("restli.entitiesV2.batchGet", 1)],
    },
    Row {
        op: "userName eq lookup",
        request: "GET /Users?filter=userName eq \"…\"",
        calls: &[("restli.entitiesV2.batchGet", 1)],
    },
    Row {
        op: "deactivate (PATCH active)",
        request: "PATCH /Users/{id} replace active=false",
        calls: &[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "replace user",
        request: "PUT /Users/{id}",
        calls: &[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "create group",
        request: "POST /Groups",
        calls: &[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "add 1 member",
        request: "PATCH /Groups/{id} add members (1)",
        calls: &[
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "add 50 members",
        request: "PATCH /Groups/{id} add members (50)",
        calls: &[
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "remove 1 member",
        request: "PATCH /Groups/{id} remove members[value eq …]",
        calls: &[
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "replace members",
        request: "PATCH /Groups/{id} replace members (3 of 51)",
        calls: &[
            ("graphql.corpGroup", 1),
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "get group",
        request: "GET /Groups/{id}",
        calls: &[("graphql.corpGroup", 1), ("restli.entitiesV2.batchGet", 1)],
    },
    Row {
        op: "get group without members",
        request: "GET /Groups/{id}?excludedAttributes=members",
        calls: &[("restli.entitiesV2.batchGet", 1)],
    },
    Row {
        op: "list users (import page)",
        request: "GET /Users?startIndex=1&count=20",
        calls: &[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
        ],
    },
    Row {
        op: "next import page",
        request: "GET /Users?startIndex=21&count=20",
        calls: &[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
        ],
    },
    Row {
        op: "page at an offset never served",
        request: "GET /Users?startIndex=33&count=5",
        calls: &[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
        ],
    },
    Row {
        op: "list users by cursor",
        request: "GET /Users?cursor=&count=20",
        calls: &[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
        ],
    },
    Row {
        op: "next cursor page",
        request: "GET /Users?cursor=<nextCursor>&count=20",
        calls: &[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
        ],
    },
    Row {
        op: "list groups with members",
        request: "GET /Groups?startIndex=1&count=10",
        calls: &[
            ("graphql.corpGroup", 1),
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
        ],
    },
    Row {
        op: "conditional get user (304)",
        request: "GET /Users/{id} If-None-Match",
        calls: &[("restli.entitiesV2.batchGet", 1)],
    },
    Row {
        op: "conditional patch user",
        request: "PATCH /Users/{id} If-Match",
        calls: &[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "conditional add 1 member",
        request: "PATCH /Groups/{id} If-Match add members (1)",
        calls: &[
            ("graphql.corpGroup", 1),
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "delete user",
        request: "DELETE /Users/{id}",
        calls: &[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "delete group",
        request: "DELETE /Groups/{id}",
        calls: &[
            ("graphql.corpGroup", 1),
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1),
        ],
    },
    Row {
        op: "bulk: create user, create group with it",
        request: "POST /Bulk (POST /Users, POST /Groups members bulkId:…)",
        calls: &[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 3),
            ("restli.ingestProposalBatch", 2),
        ],
    },
];

/// Runs one row's operation against the state the previous rows left.
async fn run(app: &TestApp, op: &str, uids: &[String], gid: &mut String) {
    let uid0 = user_id("calls.user@example.com");
    match op {
        "create user" => {
            create_user(app, "calls.user@example.com").await;
        }
        "get user" => {
            app.get(&user_path(&uid0)).expect(200).await;
        }
        "userName eq lookup" => {
            assert_eq!(lookup_user(app, "calls.user@example.com").await.len(), 1);
        }
        "deactivate (PATCH active)" => {
            patch_ok(
                app,
                &user_path(&uid0),
                patch(json!([{"op": "replace", "value": {"active": false}}])),
            )
            .await;
        }
        "replace user" => {
            let mut u = app.get(&user_path(&uid0)).expect(200).await;
            u["active"] = json!(true);
            // Not counted: the GET above belongs to the "get user" row.
            app.emu().expect("emulator").reset_calls();
            app.put(&user_path(&uid0), u).expect(200).await;
        }
        "create group" => {
            *gid = create_group(app, "Calls Group").await["id"]
                .as_str()
                .expect("id")
                .to_owned();
        }
        "add 1 member" => {
            let v = json!([{"value": uids[0]}]);
            patch_ok(
                app,
                &group_path(gid),
                patch(json!([{"op": "add", "path": "members", "value": v}])),
            )
            .await;
        }
        "add 50 members" => {
            let v: Vec<_> = uids[1..51].iter().map(|u| json!({"value": u})).collect();
            patch_ok(
                app,
                &group_path(gid),
                patch(json!([{"op": "add", "path": "members", "value": v}])),
            )
            .await;
        }
        "remove 1 member" => {
            let path = format!("members[value eq \"{}\"]", uids[0]);
            patch_ok(
                app,
                &group_path(gid),
                patch(json!([{"op": "remove", "path": path}])),
            )
            .await;
        }
        "replace members" => {
            let v: Vec<_> = uids[1..4].iter().map(|u| json!({"value": u})).collect();
            patch_ok(
                app,
                &group_path(gid),
                patch(json!([{"op": "replace", "path": "members", "value": v}])),
            )
            .await;
        }
        "get group" => {
            let g = app.get(&group_path(gid)).expect(200).await;
            assert_eq!(member_ids(&g).len(), 3);
        }
        "get group without members" => {
            let g = app
                .get(&format!("{}?excludedAttributes=members", group_path(gid)))
                .expect(200)
                .await;
            assert!(g.get("members").is_none());
        }
        "list users (import page)" | "next import page" | "page at an offset never served" => {
            let (start, count) = match op {
                "list users (import page)" => (1, 20),
                "next import page" => (21, 20),
                _ => (33, 5),
            };
            let l = app
                .get(&format!("/scim/v2/Users?startIndex={start}&count={count}"))
                .expect(200)
                .await;
            assert_eq!(assert_list(&l, start).len(), count as usize);
            assert_eq!(l["totalResults"], json!(52));
        }
        "list users by cursor" | "next cursor page" => {
            let emu = app.emu().expect("emulator");
            let first = app.get("/scim/v2/Users?cursor=&count=20").expect(200).await;
            assert_eq!(first["totalResults"], json!(52));
            if op == "next cursor page" {
                emu.reset_calls();
                let next = first["nextCursor"].as_str().expect("nextCursor");
                let page = app
                    .get(&format!("/scim/v2/Users?cursor={next}&count=20"))
                    .expect(200)
                    .await;
                assert_eq!(page["Resources"].as_array().map(Vec::len), Some(20));
            }
        }
        "list groups with members" => {
            let l = app
                .get("/scim/v2/Groups?startIndex=1&count=10")
                .expect(200)
                .await;
            assert_eq!(assert_list(&l, 1).len(), 1);
        }
        "conditional get user (304)" => {
            let u = app.get(&user_path(&uid0)).expect(200).await;
            app.emu().expect("emulator").reset_calls();
            let r = app
                .get(&user_path(&uid0))
                .header("If-None-Match", u["meta"]["version"].as_str().expect("v"))
                .send()
                .await;
            assert_eq!(r.status, 304);
        }
        "conditional patch user" => {
            let u = app.get(&user_path(&uid0)).expect(200).await;
            app.emu().expect("emulator").reset_calls();
            app.patch(
                &user_path(&uid0),
                patch(json!([{"op": "replace", "path": "title", "value": "Versioned"}])),
            )
            .header("If-Match", u["meta"]["version"].as_str().expect("v"))
            .expect(200)
            .await;
        }
        "conditional add 1 member" => {
            let g = app
                .get(&format!("{}?excludedAttributes=members", group_path(gid)))
                .expect(200)
                .await;
            app.emu().expect("emulator").reset_calls();
            let v = json!([{"value": uids[0]}]);
            let r = app
                .patch(
                    &group_path(gid),
                    patch(json!([{"op": "add", "path": "members", "value": v}])),
                )
                .header("If-Match", g["meta"]["version"].as_str().expect("v"))
                .send()
                .await;
            assert_eq!(r.status, 204);
        }
        "delete user" => {
            app.delete(&user_path(&uid0)).expect(204).await;
        }
        "delete group" => {
            app.delete(&group_path(gid)).expect(204).await;
        }
        "bulk: create user, create group with it" => {
            let body = json!({"Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "u",
                 "data": {"schemas": [USER_SCHEMA], "userName": "calls.bulk@example.com"}},
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"schemas": [GROUP_SCHEMA], "displayName": "Calls Bulk",
                          "members": [{"value": "bulkId:u"}]}},
            ]});
            let v = app.post("/scim/v2/Bulk", body).expect(200).await;
            assert_eq!(v["Operations"][1]["status"], json!("201"), "{v}");
        }
        other => panic!("no operation {other}"),
    }
}

fn render(rows: &[(&Row, BTreeMap<String, u64>)]) -> String {
    let mut s = String::from(
        "| operation | SCIM request | GMS calls | total |\n| --- | --- | --- | --- |\n",
    );
    for (row, counts) in rows {
        let calls: Vec<String> = counts.iter().map(|(e, n)| format!("`{e}` ×{n}")).collect();
        let total: u64 = counts.values().sum();
        s.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            row.op,
            row.request.replace('|', "\\|"),
            if calls.is_empty() {
                "none".into()
            } else {
                calls.join(", ")
            },
            total
        ));
    }
    s
}

fn expected(row: &Row) -> BTreeMap<String, u64> {
    row.calls.iter().map(|(e, n)| (e.to_string(), *n)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_calls_per_scim_operation() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    let mut uids = Vec::new();
    for i in 0..51 {
        let n = format!("calls.member{i:02}");
        uids.push(
            create_user(&app, &n).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let mut gid = String::new();
    let mut measured = Vec::new();
    for row in TABLE {
        emu.reset_calls();
        run(&app, row.op, &uids, &mut gid).await;
        // The readiness probe (`GET /config`, every second here) is no part of the row.
        let mut counts = emu.call_counts();
        counts.remove("config");
        measured.push((row, counts));
    }
    let actual = render(&measured);
    let want = render(&TABLE.iter().map(|r| (r, expected(r))).collect::<Vec<_>>());
    assert_eq!(
        actual, want,
        "measured table (left) differs from TABLE (right):\n{actual}"
    );

    let count = |op: &str| {
        measured
            .iter()
            .find(|(r, _)| r.op == op)
            .map(|(_, c)| c.clone())
            .expect("row")
    };
    assert_eq!(
        count("add 1 member"),
        count("add 50 members"),
        "50 members cost what 1 costs"
    );
    app.shutdown().await;
}

/// `docs/upstream-calls.md` carries the same table.
#[test]
fn upstream_calls_doc_matches_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/upstream-calls.md");
    let doc = std::fs::read_to_string(path).expect("docs/upstream-calls.md");
    let table = render(&TABLE.iter().map(|r| (r, expected(r))).collect::<Vec<_>>());
    assert!(
        doc.contains(&table),
        "docs/upstream-calls.md must contain:\n{table}"
    );
}
