//! `datahub-scim check` (the binary) against the emulator: exit status and report.

use datahub_scim::emulator::Emulator;

use crate::harness::make_certs;

async fn run_check(emu: &Emulator, token: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = make_certs(dir.path());
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("token file");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_datahub-scim"))
        .arg("check")
        .env_clear()
        .env("DATAHUB_GMS_URL", emu.base_url())
        .env("DATAHUB_SCIM_TLS_CERT_FILE", &certs.cert)
        .env("DATAHUB_SCIM_TLS_KEY_FILE", &certs.key)
        .env("DATAHUB_SCIM_CHECK_TOKEN_FILE", &token_file)
        .output()
        .await
        .expect("binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn check_reports_version_actor_and_privilege() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let emu = Emulator::start(crate::harness::emulator_config(), listener)
        .await
        .expect("emulator");

    let (code, out) = run_check(&emu, &emu.admin_token()).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("TLS certificate and key load; expires"),
        "{out}"
    );
    // The release of the emulator profile under test (DATAHUB_EMULATOR_VERSION).
    let release = format!(
        "answers; DataHub release {}: supported (0.15.0 to 1.7.x",
        emu.release().tag()
    );
    assert!(out.contains(&release), "{out}");
    assert!(out.contains("manageIdentities: true"), "{out}");
    assert!(
        !out.contains(&emu.admin_token()),
        "the token is never printed"
    );

    let viewer = emu.create_user_token("viewer", false);
    let (code, out) = run_check(&emu, &viewer).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL token actor urn:li:corpuser:viewer; manageIdentities: false, and DataHub refuses its user and group writes (403)"),
        "{out}"
    );

    let (code, out) = run_check(&emu, "not-a-jwt").await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL token fails the local check: malformed bearer token"),
        "{out}"
    );
}
