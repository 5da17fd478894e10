//! The GMS calls each SCIM operation costs, as a table (see docs/upstream-calls.md).
