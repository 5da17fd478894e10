//! RFC 7643/7644: resources, filters, PATCH, lists, projection, errors and the
//! discovery documents. Pure protocol: no I/O, nothing of DataHub or HTTP.
//!
//! - [`schema`]: the one attribute table every other part reads.
//! - [`path`]: attribute paths (`name.givenName`, URN-qualified paths).
//! - [`resource`]: typed `User` and `Group`, lenient `from_json`, exact `to_json`.
//! - [`filter`]: filter AST, parser, printer, evaluator.
//! - [`patch`]: PatchOp parsing, atomic application, the group member plan.
//! - [`list`]: list/search queries, ListResponse, projection, sorting.
//! - [`discovery`]: ServiceProviderConfig, ResourceTypes, Schemas.
//! - [`etag`]: entity tags and the `If-Match` / `If-None-Match` preconditions.
//! - [`bulk`]: BulkRequest parsing, `bulkId` references, BulkResponse.

pub mod bulk;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod filter;
pub mod json;
pub mod list;
pub mod patch;
pub mod path;
pub mod resource;
pub mod schema;

pub use error::{Error, ScimType};
pub use etag::{Preconditions, ReadOutcome, TagList};
pub use filter::{fold_case, parse as parse_filter, CompValue, CompareOp, Filter};
pub use list::{cursor_list_response, list_response, ListQuery, Projection, SortOrder};
pub use patch::{apply, plan_group, Changes, GroupPatchPlan, MemberOp, PatchRequest};
pub use path::AttrPath;
pub use resource::{Group, Meta, User};
pub use schema::ResourceKind;
