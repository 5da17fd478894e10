//! The read-modify-write loop against the scripted server: conditional
//! headers from the versions read, retry on a precondition 422, give-up.

use std::time::Duration;

use serde_json::json;

use super::super::aspects::GroupMembership;
use super::super::test_server::{calls, client, seen, serve, Act};
use super::super::{Error, Outcome, Proposal, RmwReport, Urn};

const PRECONDITION: &str = r#"{"status":422,"message":"com.linkedin.metadata.aspect.plugins.validation.AspectValidationException: Expected version 1, actual version 2"}"#;

fn membership_batch(version: &str) -> String {
    json!({"results": {"urn:li:corpuser:u": {"urn": "urn:li:corpuser:u", "aspects": {
        "groupMembership": {"value": {"groups": []}, "systemMetadata": {"version": version}}}}}})
    .to_string()
}

#[tokio::test]
async fn read_modify_write_retries_a_lost_race() {
    let (base, script) = serve(vec![
        Act::Reply(200, membership_batch("1")),
        Act::Reply(422, PRECONDITION.into()),
        Act::Reply(200, membership_batch("2")),
        Act::Reply(200, r#"{"value":"success"}"#.into()),
    ])
    .await;
    let (c, rec) = client(&base);
    let u = Urn::corp_user("u");
    let mut rounds = 0;
    let report = c
        .read_modify_write(
            "t",
            std::slice::from_ref(&u),
            &["groupMembership"],
            3,
            |es| {
                rounds += 1;
                let mut gm = es[0]
                    .get::<GroupMembership>()?
                    .map(|v| v.value)
                    .unwrap_or_default();
                gm.groups.push(Urn::corp_group("eng"));
                Ok::<_, Error>(vec![
                    Proposal::upsert(&es[0].urn, &gm)?.conditional_on(&es[0])
                ])
            },
        )
        .await
        .expect("rmw");
    assert_eq!(
        report,
        RmwReport {
            attempts: 2,
            written: 1
        }
    );
    assert_eq!(rounds, 2);
    let s = seen(&script);
    assert_eq!(
        s[1].json()["proposals"][0]["headers"]["If-Version-Match"],
        "1"
    );
    assert_eq!(
        s[3].json()["proposals"][0]["headers"]["If-Version-Match"],
        "2"
    );
    assert_eq!(
        s[3].json()["proposals"][0]["aspect"]["value"],
        r#"{"groups":["urn:li:corpGroup:eng"]}"#
    );
    assert_eq!(
        *rec.retries.lock().expect("lock"),
        vec!["restli.ingestProposalBatch"]
    );
    assert!(calls(&rec).contains(&("restli.ingestProposalBatch", Outcome::Conflict)));
}

#[tokio::test]
async fn read_modify_write_gives_up_after_max_attempts() {
    let (base, script) = serve(vec![
        Act::Reply(200, membership_batch("1")),
        Act::Reply(422, PRECONDITION.into()),
        Act::Reply(200, membership_batch("2")),
        Act::Reply(422, PRECONDITION.into()),
    ])
    .await;
    let (c, rec) = client(&base);
    let u = Urn::corp_user("u");
    let r = c
        .read_modify_write("t", &[u], &["groupMembership"], 2, |es| {
            Ok::<_, Error>(vec![Proposal::upsert(
                &es[0].urn,
                &GroupMembership::default(),
            )?
            .conditional_on(&es[0])])
        })
        .await;
    assert!(
        matches!(r, Err(Error::RetriesExhausted { attempts: 2 })),
        "{r:?}"
    );
    assert_eq!(seen(&script).len(), 4);
    assert_eq!(rec.retries.lock().expect("lock").len(), 1);
    assert_eq!(
        *rec.exhausted.lock().expect("lock"),
        vec!["restli.ingestProposalBatch"],
        "giving up is reported once"
    );
}

#[tokio::test]
async fn read_modify_write_with_nothing_to_change_does_not_write() {
    let (base, script) = serve(vec![Act::Reply(200, membership_batch("5"))]).await;
    let (c, _) = client(&base);
    let report = c
        .read_modify_write("t", &[Urn::corp_user("u")], &["groupMembership"], 3, |_| {
            Ok::<_, Error>(vec![])
        })
        .await
        .expect("rmw");
    assert_eq!(
        report,
        RmwReport {
            attempts: 1,
            written: 0
        }
    );
    assert_eq!(seen(&script).len(), 1);
}

#[test]
fn backoff_grows_exponentially_with_jitter_and_a_cap() {
    for _ in 0..200 {
        let first = super::backoff(1);
        assert!(first >= Duration::from_millis(5) && first < Duration::from_millis(15));
        let third = super::backoff(3);
        assert!(third >= Duration::from_millis(20) && third < Duration::from_millis(60));
        let late = super::backoff(40);
        assert!(late >= Duration::from_millis(160) && late < Duration::from_millis(480));
    }
    let spread: std::collections::HashSet<_> = (0..50).map(|_| super::backoff(2)).collect();
    assert!(spread.len() > 10, "jitter must spread retries");
}
