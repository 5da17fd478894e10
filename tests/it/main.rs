//! One integration-test binary; a module per area.

/// Operations: readiness, shutdown, TLS, metrics, config exit codes, bearer auth.
mod ops;
