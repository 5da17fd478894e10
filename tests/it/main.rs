//! Integration tests: one binary, one module per area.

/// The GMS emulator driven through the real DataHub client (or a real GMS when
/// `DATAHUB_GMS_URL` + `DATAHUB_GMS_TOKEN` are set).
mod emulator;
/// The shared harness: emulator + gateway in-process on 127.0.0.1:0, TLS from a
/// fresh CA, typed request helpers.
mod harness;
/// Operations: readiness, shutdown, TLS, metrics, config exit codes, bearer auth, chart.
mod ops;
