//! The measured SCIM operations. One scenario = a fresh emulator + gateway, 1000
//! provisioned users and the groups the member operations need (set up without
//! injected latency), then every operation at concurrency 1 and 8 with the given GMS
//! latency. Mutating operations target distinct users/groups per request, so every
//! request is a real change and none is a no-op.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ::http::Method;
use datahub_scim::provision::ids;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::harness::{Harness, Req};
use crate::measure::{self, percentile, Row};

/// Users provisioned before the measurements (the list runs over them).
pub const POOL: usize = 1000;
/// Groups each add-100 run spreads its requests over (× 10 member chunks of 100).
const ADD100_GROUPS: usize = 20;
/// Requests per list run (each hydrates the whole user index).
const LIST_RUNS: usize = 30;
/// Groups of the contention run.
const CONTENTION_GROUPS: usize = 8;
/// The contention operation (concurrency 8 only; failures are its result, not a
/// benchmark error).
pub const CONTENTION: &str = "PATCH add 100 members, 8 groups × same users (contention)";
/// Fresh tokens for the token-cache rows.
const TOKENS: usize = 30;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The userName of pool user `i`.
pub fn pool_name(i: usize) -> String {
    format!("user{i:05}@example.com")
}

/// Okta's create body (`okta-2.5-create-user.json` shape), or its PUT with `title`.
pub fn user_body(name: &str, title: Option<&str>) -> Value {
    let mut v = json!({
        "schemas": [USER_URN],
        "userName": name,
        "name": {"givenName": "Bench", "familyName": "User"},
        "emails": [{"primary": true, "value": name, "type": "work"}],
        "displayName": "Bench User",
        "locale": "en-US",
        "externalId": format!("ext-{name}"),
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    if let Some(t) = title {
        v["title"] = t.into();
    }
    v
}

/// POST /Users with Okta's body.
pub fn create_user_req(name: &str) -> Req {
    Req::with_body(Method::POST, "/scim/v2/Users", user_body(name, None), 201)
}

/// POST /Groups.
pub fn create_group_req(name: &str) -> Req {
    let body = json!({"schemas": [GROUP_URN], "displayName": name, "members": []});
    Req::with_body(Method::POST, "/scim/v2/Groups", body, 201)
}

/// PATCH add `users` (pool indexes) to `group`.
pub fn add_members_req(group: &str, users: impl Iterator<Item = usize>) -> Req {
    let value: Vec<Value> = users
        .map(|i| json!({"value": ids::user_id(&pool_name(i))}))
        .collect();
    let body = json!({"schemas": [PATCH_URN],
        "Operations": [{"op": "add", "path": "members", "value": value}]});
    let path = format!("/scim/v2/Groups/{}", ids::group_id(group));
    Req::with_body(Method::PATCH, path, body, 204)
}

fn user_path(i: usize) -> String {
    format!("/scim/v2/Users/{}", ids::user_id(&pool_name(i)))
}

fn add100_group(c: usize, g: usize) -> String {
    format!("add100-c{c}-g{g:02}")
}

/// Runs `reqs` as setup at concurrency 8; panics on any failure.
pub async fn setup(h: &Harness, what: &str, reqs: Vec<Req>) -> Row {
    let row = measure::run(h, what, 0, 8, reqs).await;
    assert_eq!(row.errors, 0, "setup '{what}' failed");
    row
}

/// Provisions the pool and the groups; returns the setup rows.
async fn provision(h: &Harness) -> Vec<Row> {
    let mut rows = Vec::new();
    let users = (0..POOL).map(|i| create_user_req(&pool_name(i))).collect();
    rows.push(setup(h, &format!("setup: create {POOL} users"), users).await);
    let mut groups = vec![
        create_group_req("get100"),
        create_group_req("add1-c1"),
        create_group_req("add1-c8"),
    ];
    for c in [1, 8] {
        groups.extend((0..ADD100_GROUPS).map(|g| create_group_req(&add100_group(c, g))));
    }
    groups.extend((0..CONTENTION_GROUPS).map(|g| create_group_req(&format!("contend-g{g}"))));
    setup(h, "setup: groups", groups).await;
    setup(
        h,
        "setup: 100 members",
        vec![add_members_req("get100", 0..100)],
    )
    .await;
    rows
}

/// One operation's requests for concurrency `c` (`ci` = 0 for c=1, 1 for c=8).
fn requests(op: &str, c: usize, ci: usize, n: usize) -> Vec<Req> {
    let fresh = |i: usize| ci * n + i; // distinct pool users across both runs
    match op {
        "create user" => (0..n)
            .map(|i| create_user_req(&format!("new-c{c}-{i}@example.com")))
            .collect(),
        "GET user" => (0..n).map(|i| Req::get(user_path(i % POOL))).collect(),
        "userName eq lookup" => (0..n)
            .map(|i| {
                let f = format!("userName eq \"{}\"", pool_name(i % POOL));
                Req::get(format!(
                    "/scim/v2/Users?filter={}",
                    utf8_percent_encode(&f, NON_ALPHANUMERIC)
                ))
            })
            .collect(),
        "PATCH active:false" => (0..n)
            .map(|i| {
                let body = json!({"schemas": [PATCH_URN],
                    "Operations": [{"op": "replace", "value": {"active": false}}]});
                Req::with_body(Method::PATCH, user_path(fresh(i)), body, 200)
            })
            .collect(),
        "PUT user" => (0..n)
            .map(|i| {
                let name = pool_name(i % POOL);
                let mut body = user_body(&name, Some(&format!("Title c{c} {i}")));
                body["id"] = ids::user_id(&name).into();
                Req::with_body(Method::PUT, user_path(i % POOL), body, 200)
            })
            .collect(),
        "create group" => (0..n)
            .map(|i| create_group_req(&format!("new-c{c}-{i}")))
            .collect(),
        "PATCH add 1 member" => (0..n)
            .map(|i| add_members_req(&format!("add1-c{c}"), std::iter::once(fresh(i) % POOL)))
            .collect(),
        // Requests in flight together add disjoint users (chunk = i % 10), so no two
        // race on the same users' groupMembership; see CONTENTION for the other case.
        "PATCH add 100 members" => (0..n.min(ADD100_GROUPS * 10))
            .map(|i| {
                let chunk = i % 10;
                let group = (i / 10) % ADD100_GROUPS;
                add_members_req(&add100_group(c, group), chunk * 100..chunk * 100 + 100)
            })
            .collect(),
        // 8 groups get the same 100 users at once: every request read-modify-writes
        // the same 100 groupMembership aspects (conditional writes, bounded retries).
        CONTENTION => (0..CONTENTION_GROUPS * 5)
            .map(|i| {
                let chunk = i / CONTENTION_GROUPS;
                let group = format!("contend-g{}", i % CONTENTION_GROUPS);
                add_members_req(&group, chunk * 100..chunk * 100 + 100)
            })
            .collect(),
        "GET group (100 members)" => {
            vec![Req::get(format!("/scim/v2/Groups/{}", ids::group_id("get100"))); n]
        }
        "GET group excludedAttributes=members" => vec![
            Req::get(format!(
                "/scim/v2/Groups/{}?excludedAttributes=members",
                ids::group_id("get100")
            ));
            n
        ],
        "list Users count=100 (1000 users)" => {
            vec![Req::get("/scim/v2/Users?startIndex=1&count=100"); n.min(LIST_RUNS)]
        }
        other => panic!("unknown op {other}"),
    }
}

/// The operations, in the order run (the list first, while there are exactly
/// [`POOL`] users).
pub const OPS: &[&str] = &[
    "list Users count=100 (1000 users)",
    "GET user",
    "userName eq lookup",
    "PUT user",
    "PATCH active:false",
    "create user",
    "create group",
    "GET group (100 members)",
    "GET group excludedAttributes=members",
    "PATCH add 1 member",
    "PATCH add 100 members",
];

/// A full scenario on a fresh harness: returns (setup rows, measured rows).
pub async fn scenario(h: &Harness, latency_ms: u64, n: usize) -> (Vec<Row>, Vec<Row>) {
    let mut setup_rows = provision(h).await;
    for r in &mut setup_rows {
        r.op = format!("{} (scenario {latency_ms} ms)", r.op);
    }
    let warm: Vec<Req> = (0..16).map(|i| Req::get(user_path(i))).collect();
    setup(h, "warm-up", warm).await;
    h.emu
        .faults()
        .set_latency(Duration::from_millis(latency_ms));
    let mut rows = Vec::new();
    for op in OPS {
        for (ci, c) in [1usize, 8].into_iter().enumerate() {
            let row = measure::run(h, op, latency_ms, c, requests(op, c, ci, n)).await;
            eprintln!(
                "  {op:<40} c={c} gms={latency_ms}ms p50={:.2}ms p99={:.2}ms rps={:.0} calls={:.2}",
                row.p50_ms, row.p99_ms, row.rps, row.gms_calls_per_op
            );
            rows.push(row);
        }
    }
    let row = measure::run(h, CONTENTION, latency_ms, 8, requests(CONTENTION, 8, 1, n)).await;
    eprintln!("  {CONTENTION}: {} of {} failed", row.errors, row.requests);
    rows.push(row);
    rows.extend(token_cache(h, latency_ms).await);
    h.emu.faults().set_latency(Duration::ZERO);
    (setup_rows, rows)
}

/// First request with a fresh token (cache miss: GMS `me`) vs the same token again.
async fn token_cache(h: &Harness, latency_ms: u64) -> Vec<Row> {
    let req = Req::get(user_path(0));
    let mut first = Vec::new();
    let mut again = Vec::new();
    let (mut calls_first, mut calls_again) = (Vec::new(), Vec::new());
    let mut errors = 0;
    for i in 0..TOKENS {
        let token = h
            .emu
            .create_user_token(&format!("bench-token-{latency_ms}-{i}"), true);
        for (lat, calls) in [
            (&mut first, &mut calls_first),
            (&mut again, &mut calls_again),
        ] {
            h.emu.reset_calls();
            let t0 = Instant::now();
            let reply = h.send_as(&req, &token).await;
            lat.push(t0.elapsed());
            errors += usize::from(reply.status != 200);
            calls.push(measure::calls_per_op(h, 1).1);
        }
    }
    let row = |op: &str, mut lat: Vec<Duration>, calls: Vec<BTreeMap<String, f64>>| {
        lat.sort();
        let mut by = BTreeMap::<String, f64>::new();
        for c in &calls {
            for (e, v) in c {
                *by.entry(e.clone()).or_default() += v / TOKENS as f64;
            }
        }
        let total = lat.iter().sum::<Duration>().as_secs_f64();
        Row {
            op: op.to_owned(),
            gms_latency_ms: latency_ms,
            concurrency: 1,
            requests: TOKENS,
            errors,
            p50_ms: percentile(&lat, 50.0),
            p99_ms: percentile(&lat, 99.0),
            rps: TOKENS as f64 / total,
            gms_calls_per_op: by.values().sum(),
            gms_calls_by_endpoint: by,
        }
    };
    vec![
        row("GET user, new token (token cache miss)", first, calls_first),
        row("GET user, same token again (cached)", again, calls_again),
    ]
}
