//! TLS: certificate reload (good and bad files), plain HTTP on the TLS port, ALPN h2.

use std::time::Duration;

use crate::harness::{make_certs, sample, write_pair, Gateway};

#[tokio::test]
async fn certificate_reload_keeps_old_config_on_bad_files() {
    let g = Gateway::ready(&[]).await;
    let old_ca = g.certs.ca_pem.clone();
    assert_eq!(
        g.scim_with_ca(&old_ca, "GET", "/scim/v2/Users", None)
            .await
            .expect("old CA trusted")
            .status,
        401
    );

    // Good new material signed by another CA.
    let other = tempfile::tempdir().expect("tempdir");
    let fresh = make_certs(other.path());
    let (cert, key) = (
        std::fs::read_to_string(&fresh.cert).expect("c"),
        std::fs::read_to_string(&fresh.key).expect("k"),
    );
    write_pair(&g.certs.cert, &g.certs.key, &cert, &key);
    wait_for(|| async {
        g.scim_with_ca(&fresh.ca_pem, "GET", "/scim/v2/Users", None)
            .await
            .is_ok()
    })
    .await;
    assert!(
        g.scim_with_ca(&old_ca, "GET", "/scim/v2/Users", None)
            .await
            .is_err(),
        "old certificate no longer served"
    );
    let m = g.metrics().await;
    assert_eq!(
        sample(&m, "datahub_scim_tls_reloads_total{result=\"ok\"}"),
        Some(1.0),
        "{m}"
    );

    // Bad material: counted, logged, and the good certificate stays.
    write_pair(
        &g.certs.cert,
        &g.certs.key,
        "not a certificate",
        "not a key",
    );
    let mut failed = None;
    for _ in 0..100 {
        failed = sample(
            &g.metrics().await,
            "datahub_scim_tls_reloads_total{result=\"failed\"}",
        );
        if failed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failed, Some(1.0));
    let r = g
        .scim_with_ca(&fresh.ca_pem, "GET", "/scim/v2/Users", None)
        .await
        .expect("still serving the good certificate");
    assert_eq!(r.status, 401);
    assert_eq!(g.admin_get("/ready").await.0, 200);
}

async fn wait_for<F, Fut>(mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition never held");
}

#[tokio::test]
async fn plain_http_on_the_tls_port_fails_cleanly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let g = Gateway::ready(&[]).await;
    let mut s = tokio::net::TcpStream::connect(g.scim)
        .await
        .expect("connect");
    s.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("server closes");
    let _ = read; // reset or clean close are both fine
    assert!(
        !buf.starts_with(b"HTTP/"),
        "no plain-HTTP answer on the TLS port"
    );
    // The listener is unharmed.
    assert_eq!(g.scim("GET", "/scim/v2/Users", None).await.status, 401);
}

#[tokio::test]
async fn http2_is_negotiated_by_alpn_and_request_ids_are_honoured() {
    let g = Gateway::ready(&[]).await;
    let r = g
        .scim_body(
            "GET",
            "/scim/v2/Users",
            None,
            &[("x-request-id", "abc-123")],
            "",
        )
        .await;
    assert_eq!(r.version, ::http::Version::HTTP_2);
    assert_eq!(r.headers["x-request-id"], "abc-123");
    // A header that is not a sane id is replaced by a fresh one.
    let r = g
        .scim_body("GET", "/scim/v2/Users", None, &[("x-request-id", "")], "")
        .await;
    assert_eq!(r.headers["x-request-id"].len(), 36);
}

#[test]
fn certs_command_writes_a_ca_and_a_usable_server_pair() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_datahub-scim"))
        .args(["certs", "--out-dir"])
        .arg(dir.path())
        .args(["--host", "scim.internal", "--days", "10"])
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |f: &str| std::fs::read(dir.path().join(f)).expect(f);
    let config = datahub_scim::http::tls::server_config(&read("tls.crt"), &read("tls.key"));
    assert!(config.is_ok(), "the server pair loads");
    let expiry = datahub_scim::http::tls::cert_expiry(&read("tls.crt")).expect("expiry");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(
        (9 * 86_400..=11 * 86_400).contains(&(expiry - now)),
        "about 10 days"
    );
    let chain = String::from_utf8(read("tls.crt")).expect("pem");
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf + CA");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in ["tls.key", "ca.key"] {
            let mode = std::fs::metadata(dir.path().join(key))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{key} is private");
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn certificate_reload_follows_a_kubernetes_secret_symlink_swap() {
    use std::os::unix::fs::symlink;
    // The layout kubelet gives a mounted Secret: files are symlinks through `..data`,
    // which is swapped atomically to a new timestamped folder on update.
    let mount = tempfile::tempdir().expect("tempdir");
    let m = mount.path();
    let first = make_certs(&{
        let d = m.join("..2026_01");
        std::fs::create_dir(&d).expect("dir");
        d
    });
    symlink("..2026_01", m.join("..data")).expect("..data");
    symlink("..data/tls.crt", m.join("tls.crt")).expect("tls.crt");
    symlink("..data/tls.key", m.join("tls.key")).expect("tls.key");
    let cert = m.join("tls.crt").display().to_string();
    let key = m.join("tls.key").display().to_string();
    let g = Gateway::ready(&[
        ("DATAHUB_SCIM_TLS_CERT_FILE", &cert),
        ("DATAHUB_SCIM_TLS_KEY_FILE", &key),
    ])
    .await;
    assert!(g
        .scim_with_ca(&first.ca_pem, "GET", "/scim/v2/Users", None)
        .await
        .is_ok());

    let second = make_certs(&{
        let d = m.join("..2026_02");
        std::fs::create_dir(&d).expect("dir");
        d
    });
    symlink("..2026_02", m.join("..data_tmp")).expect("..data_tmp");
    std::fs::rename(m.join("..data_tmp"), m.join("..data")).expect("atomic swap");
    wait_for(|| async {
        g.scim_with_ca(&second.ca_pem, "GET", "/scim/v2/Users", None)
            .await
            .is_ok()
    })
    .await;
    assert!(g
        .scim_with_ca(&first.ca_pem, "GET", "/scim/v2/Users", None)
        .await
        .is_err());
}
