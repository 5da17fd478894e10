//! The filters Entra's matching attributes produce (idp-scim-clients.md §3.4, §8): `eq`
//! on `userName`, `externalId`, `id`, `emails.value` and `emails[type eq "work"].value`,
//! `and` of two `eq`s, attribute names and operators in any case.

use serde_json::Value;

use crate::harness::TestApp;
use crate::support::scim::*;

use super::entra_create;

async fn filter(app: &TestApp, f: &str) -> Vec<String> {
    let v: Value = app
        .get(&format!("/scim/v2/Users?filter={}", enc_plus(f)))
        .expect(200)
        .await;
    ids(&assert_list(&v, 1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_matching_filters() {
    let app = TestApp::spawn().await;
    let un = app.uniq("Filter_User");
    let other = app.uniq("Filter_Other");
    let (id, _) = entra_create(&app, &un).await;
    entra_create(&app, &other).await;
    let mail = format!("{un}@testuser.com");

    assert_eq!(
        filter(&app, &format!("userName eq \"{un}\"")).await,
        vec![id.clone()]
    );
    assert_eq!(
        filter(&app, &format!("USERNAME EQ \"{un}\"")).await,
        vec![id.clone()],
        "names and operators are case-insensitive"
    );
    assert_eq!(
        filter(&app, &format!("id eq \"{id}\"")).await,
        vec![id.clone()]
    );
    assert_eq!(
        filter(
            &app,
            &format!("emails[type eq \"work\"].value eq \"{mail}\"")
        )
        .await,
        vec![id.clone()]
    );
    assert_eq!(
        filter(&app, &format!("emails.value eq \"{mail}\"")).await,
        vec![id.clone()]
    );
    assert_eq!(
        filter(&app, &format!("userName eq \"{un}\" and active eq true")).await,
        vec![id.clone()]
    );
    assert!(
        filter(&app, &format!("userName eq \"{un}\" and active eq false"))
            .await
            .is_empty()
    );
    assert!(filter(&app, "userName eq \"nobody-at-all\"")
        .await
        .is_empty());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_matching_filter_on_external_id_and() {
    let app = TestApp::spawn().await;
    let un = app.uniq("Filter_Ext");
    let (id, ext) = entra_create(&app, &un).await;
    assert_eq!(
        filter(&app, &format!("externalId eq \"{ext}\"")).await,
        vec![id.clone()]
    );
    assert_eq!(
        filter(
            &app,
            &format!("userName eq \"{un}\" and externalId eq \"{ext}\"")
        )
        .await,
        vec![id]
    );
    app.shutdown().await;
}
