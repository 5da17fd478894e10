//! RFC 7643/7644: resources, filters, PATCH, lists, projection, errors and the
//! discovery documents. Pure protocol: no I/O, nothing of DataHub or HTTP.

pub mod error;

pub use error::{Error, ScimType};
