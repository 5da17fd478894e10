//! Integration tests: one binary, one module per area.

/// The GMS emulator driven through the real DataHub client (or a real GMS when
/// `DATAHUB_GMS_URL` + `DATAHUB_GMS_TOKEN` are set).
mod emulator;
/// Operations: readiness, shutdown, TLS, metrics, config exit codes, bearer auth, chart.
mod ops;
