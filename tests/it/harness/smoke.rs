//! The harness itself, end to end over TLS.

use super::TestApp;
use crate::support::http::TestClient;

/// The harness itself: TLS with the test CA, plain HTTP refused on the TLS port, the
/// admin port, both URL prefixes, and a clean shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_over_tls() {
    let app = TestApp::spawn().await;
    assert!(app.gateway(0).base.starts_with("https://"));
    assert_eq!(app.admin_get("/live").send().await.status, 200);
    let ready = app.admin_get("/ready").send().await;
    assert_eq!(ready.status, 200);
    let v = app
        .get("/scim/v2/Users?startIndex=1&count=1")
        .expect(200)
        .await;
    crate::support::scim::assert_list(&v, 1);
    let v = app
        .get("/openapi/scim/v2/Users?startIndex=1&count=1")
        .expect(200)
        .await;
    crate::support::scim::assert_list(&v, 1);
    let e = app
        .get("/scim/v2/Users")
        .token("not-a-token")
        .expect(401)
        .await;
    crate::support::scim::assert_error(&e, 401, None);

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = app.gateway(0).base.replace("https://", "http://");
    let req = http::Request::builder()
        .uri(format!("{plain}/scim/v2/Users"))
        .header("authorization", format!("Bearer {}", app.token()))
        .body(Default::default())
        .expect("request");
    let r = TestClient::new(&[]).try_send(req).await;
    assert!(
        r.as_ref().is_none_or(|r| r.status == 400),
        "plain HTTP on the TLS port: {r:?}"
    );
    // A client that does not trust the test CA fails the handshake.
    let req = http::Request::builder()
        .uri(format!("{}/scim/v2/Users", app.gateway(0).base))
        .body(Default::default())
        .expect("request");
    assert!(
        TestClient::new(&[]).try_send(req).await.is_none(),
        "untrusted certificate accepted"
    );
    app.shutdown().await;
}
