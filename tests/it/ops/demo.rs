//! `datahub-scim demo`: prints an exact `CA=` line that works as pasted, and removes
//! its `datahub-scim-demo-*` certificate folder however it ends (SIGTERM, ctrl-c, a
//! failed start).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::harness;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `datahub-scim-demo-*` entries left in `tmp`.
fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .expect("tmp")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("datahub-scim-demo-"))
        .collect()
}

fn demo(tmp: &Path, admin: u16) -> (tokio::process::Child, u16) {
    let scim = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_datahub-scim"))
        .arg("demo")
        .args(["--listen", &format!("127.0.0.1:{scim}")])
        .args(["--gms-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
        .arg("--token-file")
        .arg(tmp.join("demo.token"))
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("demo starts");
    (child, scim)
}

/// Runs the demo until ready, checks the pasted `CA=` line against its TLS port, stops
/// it with `signal` and checks it exits 0 and leaves no folder behind.
async fn ready_then_stop(signal: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut child, scim) = demo(tmp.path(), free_port());
    let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = String::new();
    let ca = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = out.next_line().await.expect("read") {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(path) = line.strip_prefix("CA=") {
                return path.to_owned();
            }
        }
        panic!("the demo ended without a CA= line:\n{printed}");
    })
    .await
    .expect("the demo becomes ready");
    assert!(
        ca.starts_with(&tmp.path().display().to_string()) && ca.ends_with("/tls.crt"),
        "{ca}"
    );
    assert_eq!(leftovers(tmp.path()).len(), 1);

    // The line works as printed: the certificate it names is the one served.
    let pem = std::fs::read_to_string(&ca).expect("the CA= file");
    let token = std::fs::read_to_string(tmp.path().join("demo.token")).expect("token");
    let status = harness::tls_get(&pem, scim, "/scim/v2/Users", token.trim())
        .await
        .expect("TLS with the printed CA");
    assert_eq!(status, 200);

    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the demo stops")
        .expect("status");
    assert_eq!(status.code(), Some(0), "{signal}");
    assert_eq!(
        leftovers(tmp.path()),
        Vec::<String>::new(),
        "after {signal}"
    );
}

#[tokio::test]
async fn demo_removes_its_folder_after_sigterm() {
    ready_then_stop("-TERM").await;
}

#[tokio::test]
async fn demo_removes_its_folder_after_ctrl_c() {
    ready_then_stop("-INT").await;
}

#[tokio::test]
async fn demo_removes_its_folder_when_it_cannot_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The admin port is taken: the gateway cannot bind after the certificate is written.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let (child, _) = demo(tmp.path(), taken.local_addr().expect("addr").port());
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the demo gives up")
        .expect("output");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}
