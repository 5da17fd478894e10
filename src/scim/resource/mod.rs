//! Typed SCIM resources. `from_json` accepts what real IdPs send (unknown attributes
//! and extension URNs kept in `extra`, read-only and write-only input ignored);
//! `to_json` writes exactly the RFC shape.

mod expand;
mod group;
pub(crate) mod lenient;
mod meta;
mod user;

#[cfg(test)]
mod tests;

pub use expand::expand_keys;
pub use group::{Group, Member};
pub use lenient::boolean as lenient_bool;
pub use meta::Meta;
pub use user::{Address, Enterprise, Manager, MultiValue, Name, User};

/// Keys a client may send that we never store: readOnly (`id`, `meta`, `groups`),
/// writeOnly (`password`, we do not store passwords), and `schemas` (derived).
pub(crate) const IGNORED_INPUT: &[&str] = &["id", "meta", "groups", "password", "schemas"];
