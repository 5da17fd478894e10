//! The one schema table (RFC 7643 §2, §4, §7, §8.7.1): every attribute we know, with
//! its type, plurality, case-exactness, mutability, `returned` and uniqueness. The
//! filter evaluator, PATCH engine, projection, sorting and the `/Schemas` discovery
//! document all read this table, so they cannot drift apart.

use crate::scim::path::AttrPath;

mod tables;

pub use tables::{COMMON, ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

/// Core User schema URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Enterprise User extension URN.
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Core Group schema URN.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// ListResponse message URN.
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// PatchOp message URN.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// SearchRequest message URN.
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The two resource types we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// `"User"` or `"Group"`, as in `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }
    /// Endpoint path segment: `/Users` or `/Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "/Users",
            ResourceKind::Group => "/Groups",
        }
    }
    /// The core schema of this resource type.
    pub fn core(self) -> &'static SchemaDef {
        match self {
            ResourceKind::User => &USER_SCHEMA,
            ResourceKind::Group => &GROUP_SCHEMA,
        }
    }
    /// The schema extensions this resource type accepts.
    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        static USER_EXTENSIONS: [&SchemaDef; 1] = [&ENTERPRISE_SCHEMA];
        match self {
            ResourceKind::User => &USER_EXTENSIONS,
            ResourceKind::Group => &[],
        }
    }
    /// The extension schema with this URN (case-insensitive), if this type has it.
    pub fn extension(self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions()
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

/// SCIM attribute data types (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
            AttrType::Binary => "binary",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

/// One attribute definition.
#[derive(Debug, Clone, Copy)]
pub struct AttrDef {
    /// Canonical (camelCase) name.
    pub name: &'static str,
    pub ty: AttrType,
    pub multi: bool,
    pub required: bool,
    /// Whether string comparisons are case-sensitive (default false, RFC 7643 §2.2).
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub: &'static [AttrDef],
    pub description: &'static str,
}

pub(super) const fn a(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        canonical: &[],
        reference_types: &[],
        sub: &[],
        description,
    }
}
pub(super) const fn s(name: &'static str, description: &'static str) -> AttrDef {
    a(name, AttrType::String, description)
}
pub(super) const fn c(
    name: &'static str,
    sub: &'static [AttrDef],
    description: &'static str,
) -> AttrDef {
    AttrDef {
        sub,
        ..a(name, AttrType::Complex, description)
    }
}

impl AttrDef {
    pub(super) const fn multi(self) -> Self {
        AttrDef {
            multi: true,
            ..self
        }
    }
    pub(super) const fn required(self) -> Self {
        AttrDef {
            required: true,
            ..self
        }
    }
    pub(super) const fn exact(self) -> Self {
        AttrDef {
            case_exact: true,
            ..self
        }
    }
    pub(super) const fn mutability(self, mutability: Mutability) -> Self {
        AttrDef { mutability, ..self }
    }
    pub(super) const fn returned(self, returned: Returned) -> Self {
        AttrDef { returned, ..self }
    }
    pub(super) const fn unique(self) -> Self {
        AttrDef {
            uniqueness: Uniqueness::Server,
            ..self
        }
    }
    pub(super) const fn canonical(self, canonical: &'static [&'static str]) -> Self {
        AttrDef { canonical, ..self }
    }
    pub(super) const fn refs(self, reference_types: &'static [&'static str]) -> Self {
        AttrDef {
            reference_types,
            ..self
        }
    }

    /// The sub-attribute with this name (case-insensitive).
    pub fn sub_attr(&self, name: &str) -> Option<&'static AttrDef> {
        self.sub.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }
}

/// One schema (RFC 7643 §7).
#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attrs: &'static [AttrDef],
}

impl SchemaDef {
    /// The attribute with this name (case-insensitive).
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        self.attrs
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }
}

/// Where an attribute path points in the schema table.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The schema owning the attribute (`COMMON` for id/externalId/meta).
    pub schema: &'static SchemaDef,
    /// The top-level attribute.
    pub attr: &'static AttrDef,
    /// The sub-attribute, when the path names one that the table knows.
    pub sub: Option<&'static AttrDef>,
    /// The extension URN under which the attribute lives in the JSON, if any.
    pub ext: Option<&'static str>,
}

impl Resolved {
    /// The innermost definition (sub-attribute if any, else the attribute).
    pub fn leaf(&self) -> &'static AttrDef {
        self.sub.unwrap_or(self.attr)
    }
}

/// Resolves a path against the table: core schema (with or without its URN), common
/// attributes, or an extension (with its URN). `None` for attributes we do not know.
pub fn resolve(kind: ResourceKind, path: &AttrPath) -> Option<Resolved> {
    let (schema, ext) = match &path.urn {
        None => {
            let attr = kind.core().attr(&path.attr);
            let (schema, attr) = match attr {
                Some(d) => (kind.core(), d),
                None => (&COMMON, COMMON.attr(&path.attr)?),
            };
            return Some(finish(schema, attr, None, path));
        }
        Some(urn) if urn.eq_ignore_ascii_case(kind.core().id) => (kind.core(), None),
        Some(urn) => {
            let ext = kind.extension(urn)?;
            (ext, Some(ext.id))
        }
    };
    let attr = schema.attr(&path.attr).or_else(|| {
        if ext.is_none() {
            COMMON.attr(&path.attr)
        } else {
            None
        }
    })?;
    Some(finish(schema, attr, ext, path))
}

fn finish(
    schema: &'static SchemaDef,
    attr: &'static AttrDef,
    ext: Option<&'static str>,
    path: &AttrPath,
) -> Resolved {
    let sub = path.sub.as_deref().and_then(|n| attr.sub_attr(n));
    Resolved {
        schema,
        attr,
        sub,
        ext,
    }
}

/// Whether string values of this attribute compare case-sensitively; unknown attributes
/// default to case-insensitive (RFC 7643 §2.2).
pub fn case_exact(kind: ResourceKind, path: &AttrPath) -> bool {
    resolve(kind, path)
        .map(|r| r.leaf().case_exact)
        .unwrap_or(false)
}
