//! Consistency: read-your-writes through an index that lags 2 s behind writes (the
//! Okta and Entra core flows), two gateways on one GMS racing on the same user and the
//! same group (DataHub is the only state), and GMS faults (503, stall) that must
//! surface as SCIM errors with nothing half-written.

use std::time::Duration;

mod atomicity;
mod faults;
mod lag;
mod races;

/// How far the emulator's index lags behind writes in the lag tests.
const LAG: Duration = Duration::from_secs(2);
