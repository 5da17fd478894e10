use std::collections::HashMap;
use std::time::Duration;

use super::validate::parse_duration;
use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn env_map_sets_values_and_flags_win() {
    let e = env(&[
        ("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "1"),
        ("DATAHUB_SCIM_LISTEN", "127.0.0.1:1234"),
        ("DATAHUB_SCIM_REQUEST_DEADLINE", "250ms"),
        ("DATAHUB_SCIM_USER_DELETE", "hard"),
        ("DATAHUB_GMS_URL", "http://gms:8080/"),
    ]);
    let c = serve_config(["x", "--listen", "127.0.0.1:4321"], &e).expect("valid config");
    assert_eq!(c.listen.port(), 4321, "flag beats env");
    assert!(c.tls.is_none());
    assert_eq!(c.request_deadline, Duration::from_millis(250));
    assert_eq!(
        c.provision.user_delete,
        crate::provision::DeletePolicy::Hard
    );
    assert_eq!(c.gms.url, "http://gms:8080", "trailing slash trimmed");
    assert_eq!(
        c.provision.user_rename,
        crate::provision::RenamePolicy::Move,
        "renames move by default"
    );
    assert!(!c.provision.idp_roles, "roles stay DataHub's by default");
}

#[test]
fn rename_policy_and_idp_roles_are_settings() {
    let e = env(&[
        ("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "1"),
        ("DATAHUB_SCIM_USER_RENAME", "reject"),
        ("DATAHUB_SCIM_IDP_ROLES", "true"),
    ]);
    let c = serve_config(["x"], &e).expect("valid config");
    assert_eq!(
        c.provision.user_rename,
        crate::provision::RenamePolicy::Reject
    );
    assert!(c.provision.idp_roles);
    let c = serve_config(["x", "--user-rename", "move"], &e).expect("valid config");
    assert_eq!(
        c.provision.user_rename,
        crate::provision::RenamePolicy::Move
    );
    let bad = env(&[
        ("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "1"),
        ("DATAHUB_SCIM_USER_RENAME", "merge"),
    ]);
    assert!(serve_config(["x"], &bad).is_err());
}

#[test]
fn every_problem_is_reported() {
    let e = env(&[
        ("DATAHUB_SCIM_LISTEN", "nowhere"),
        ("DATAHUB_SCIM_USERNAME_REGEX", "(["),
        ("DATAHUB_GMS_URL", "not a url"),
        ("DATAHUB_SCIM_TLS_CERT_FILE", "/nonexistent/tls.crt"),
        ("DATAHUB_SCIM_SHUTDOWN_GRACE", "soon"),
    ]);
    let err = serve_config(["x"], &e).expect_err("invalid config");
    let all = err.problems.join("\n");
    for needle in [
        "DATAHUB_SCIM_LISTEN",
        "DATAHUB_SCIM_USERNAME_REGEX",
        "DATAHUB_GMS_URL",
        "DATAHUB_SCIM_TLS_CERT_FILE",
        "DATAHUB_SCIM_TLS_KEY_FILE",
        "DATAHUB_SCIM_SHUTDOWN_GRACE",
    ] {
        assert!(all.contains(needle), "missing {needle} in:\n{all}");
    }
    assert_eq!(err.problems.len(), 6, "{all}");
}

#[test]
fn process_environment_is_not_read_with_a_map() {
    // PATH is always set; a map without it must not see it.
    assert!(Env::Map(&HashMap::new()).get("PATH").is_none());
}

#[test]
fn durations() {
    assert_eq!(parse_duration("5").ok(), Some(Duration::from_secs(5)));
    assert_eq!(parse_duration("2m").ok(), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("15ms").ok(), Some(Duration::from_millis(15)));
    assert!(parse_duration("5 parsecs").is_err());
    assert!(parse_duration("").is_err());
    // Too long to represent: an error, not an overflow.
    assert!(parse_duration("18446744073709551615h").is_err());
    assert!(parse_duration("18446744073709551615m").is_err());
    assert_eq!(
        parse_duration("18446744073709551615s").ok(),
        Some(Duration::from_secs(u64::MAX))
    );
}

#[test]
fn missing_subcommand_means_serve_and_help_is_displayed() {
    let e = HashMap::new();
    assert!(matches!(
        parse(["x", "--insecure-plain-http"], Env::Map(&e)),
        Parsed::Run(c) if matches!(*c, Command::Serve(_))
    ));
    match parse(["x", "serve", "--help"], Env::Map(&e)) {
        Parsed::Display(s) => assert!(s.contains("DATAHUB_SCIM_TOKEN_CACHE_TTL"), "{s}"),
        other => panic!("expected help, got {other:?}"),
    }
    assert!(matches!(
        parse(["x", "--no-such-flag"], Env::Map(&e)),
        Parsed::Usage(_)
    ));
}

#[test]
fn env_names_are_listed() {
    let names = env_var_names();
    assert!(names.contains(&"DATAHUB_GMS_URL".to_string()));
    assert!(names.contains(&"DATAHUB_SCIM_CHECK_TOKEN_FILE".to_string()));
    assert!(names
        .iter()
        .all(|n| n == "DATAHUB_GMS_URL" || n.starts_with("DATAHUB_SCIM_")));
}

#[test]
fn max_filter_scan_is_configurable() {
    let plain = [("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "1")];
    let c = serve_config(["x"], &env(&plain)).expect("valid config");
    assert_eq!(
        c.provision.max_filter_scan,
        crate::provision::DEFAULT_MAX_FILTER_SCAN
    );
    let e = env(&[plain[0], ("DATAHUB_SCIM_MAX_FILTER_SCAN", "2500")]);
    let c = serve_config(["x"], &e).expect("valid config");
    assert_eq!(c.provision.max_filter_scan, 2500);
    let c = serve_config(["x", "--max-filter-scan", "7"], &e).expect("valid config");
    assert_eq!(c.provision.max_filter_scan, 7, "flag beats env");
    let err = serve_config(["x", "--max-filter-scan", "0"], &e).expect_err("zero");
    assert!(
        err.problems
            .join("\n")
            .contains("DATAHUB_SCIM_MAX_FILTER_SCAN"),
        "{:?}",
        err.problems
    );
}

#[test]
fn max_page_size_stays_within_what_a_list_serves() {
    let plain = ("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "1");
    let c = serve_config(["x", "--max-page-size", "1000"], &env(&[plain])).expect("valid");
    assert_eq!(c.provision.max_page_size, 1000);
    for bad in ["0", "1001"] {
        let err = serve_config(["x", "--max-page-size", bad], &env(&[plain])).expect_err(bad);
        assert!(
            err.problems
                .join("\n")
                .contains("DATAHUB_SCIM_MAX_PAGE_SIZE"),
            "{:?}",
            err.problems
        );
    }
}

#[test]
fn audit_log_is_off_by_default_and_takes_a_stream_or_a_file() {
    let plain = ("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "1");
    let c = serve_config(["x"], &env(&[plain])).expect("valid");
    assert_eq!(c.audit_log, None, "off unless asked for");
    for (v, want) in [
        ("off", None),
        ("", None),
        ("stderr", Some(AuditTarget::Stderr)),
        ("stdout", Some(AuditTarget::Stdout)),
    ] {
        let c = serve_config(["x"], &env(&[plain, ("DATAHUB_SCIM_AUDIT_LOG", v)])).expect(v);
        assert_eq!(c.audit_log, want, "{v:?}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("audit.jsonl");
    let f = file.display().to_string();
    let c = serve_config(["x", "--audit-log", &f], &env(&[plain])).expect("new file");
    assert_eq!(c.audit_log, Some(AuditTarget::File(file.clone())));
    assert!(!file.exists(), "validation creates nothing");

    let bad = [
        dir.path().display().to_string(),
        dir.path()
            .join("no/such/folder/audit.jsonl")
            .display()
            .to_string(),
    ];
    for b in &bad {
        let err = serve_config(["x", "--audit-log", b], &env(&[plain])).expect_err(b);
        assert!(
            err.problems.join("\n").contains("DATAHUB_SCIM_AUDIT_LOG"),
            "{:?}",
            err.problems
        );
    }
}

#[test]
fn bulk_limits_default_to_the_body_cap_and_fit_the_body_budget() {
    let plain = ("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "1");
    let c = serve_config(["x"], &env(&[plain])).expect("valid");
    assert_eq!(
        (c.bulk.max_operations, c.bulk.max_payload_bytes),
        (100, 1_048_576)
    );
    // Unset, the payload limit follows --max-body-bytes (also under a small budget).
    let small = env(&[
        plain,
        ("DATAHUB_SCIM_MAX_BODY_BYTES", "4096"),
        ("DATAHUB_SCIM_MAX_INFLIGHT_BODY_BYTES", "8192"),
    ]);
    let c = serve_config(["x"], &small).expect("valid");
    assert_eq!(c.bulk.max_payload_bytes, 4096);
    let c = serve_config(
        [
            "x",
            "--bulk-max-payload-bytes",
            "8192",
            "--bulk-max-operations",
            "0",
        ],
        &small,
    )
    .expect("valid");
    assert_eq!((c.bulk.max_operations, c.bulk.max_payload_bytes), (0, 8192));
    let err = serve_config(
        [
            "x",
            "--bulk-max-payload-bytes",
            "8193",
            "--bulk-max-operations",
            "10001",
        ],
        &small,
    )
    .expect_err("over the budget and the operation cap");
    let all = err.problems.join("\n");
    assert!(all.contains("DATAHUB_SCIM_BULK_MAX_PAYLOAD_BYTES"), "{all}");
    assert!(all.contains("DATAHUB_SCIM_BULK_MAX_OPERATIONS"), "{all}");
}
