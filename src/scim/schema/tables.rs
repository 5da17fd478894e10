//! The attribute definitions themselves: RFC 7643 §4.1 (User), §4.3 (Enterprise
//! User), §4.2 (Group) and §3.1 (common attributes), limited to what we serve.

use super::{a, c, s, AttrDef, AttrType, Mutability, Returned, SchemaDef};
use super::{ENTERPRISE_URN, GROUP_URN, USER_URN};
use AttrType::{Boolean, DateTime, Reference};
use Mutability::{Immutable, ReadOnly, WriteOnly};

const PRIMARY: AttrDef = a("primary", Boolean, "Indicates the primary value.");
const EMAIL_SUB: &[AttrDef] = &[
    s("value", "Email address."),
    s("display", "Display name."),
    s("type", "work, home, other.").canonical(&["work", "home", "other"]),
    PRIMARY,
];
const PHONE_SUB: &[AttrDef] = &[
    s("value", "Phone number."),
    s("display", "Display name."),
    s("type", "work, home, mobile, fax, pager, other.")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    PRIMARY,
];
const ADDRESS_SUB: &[AttrDef] = &[
    s("formatted", "Full mailing address."),
    s("streetAddress", "Street address."),
    s("locality", "City or locality."),
    s("region", "State or region."),
    s("postalCode", "Zip or postal code."),
    s("country", "Country."),
    s("type", "work, home, other.").canonical(&["work", "home", "other"]),
    PRIMARY,
];
const ROLE_SUB: &[AttrDef] = &[
    s("value", "Role."),
    s("display", "Display name."),
    s("type", "Role type."),
    PRIMARY,
];
const USER_GROUPS_SUB: &[AttrDef] = &[
    s("value", "Group id.").mutability(ReadOnly),
    a("$ref", Reference, "Group URI.")
        .mutability(ReadOnly)
        .refs(&["User", "Group"]),
    s("display", "Group display name.").mutability(ReadOnly),
    s("type", "direct or indirect.")
        .mutability(ReadOnly)
        .canonical(&["direct", "indirect"]),
];
const NAME_SUB: &[AttrDef] = &[
    s("formatted", "Full name."),
    s("familyName", "Family name."),
    s("givenName", "Given name."),
    s("middleName", "Middle name."),
    s("honorificPrefix", "Honorific prefix."),
    s("honorificSuffix", "Honorific suffix."),
];

/// RFC 7643 §4.1, the attributes we serve.
pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER_URN,
    name: "User",
    description: "User Account",
    attrs: &[
        s("userName", "Unique identifier for the User.")
            .required()
            .unique(),
        c("name", NAME_SUB, "The components of the user's name."),
        s("displayName", "Name displayed to end-users."),
        s("nickName", "Casual name."),
        a("profileUrl", Reference, "Online profile URL.").refs(&["external"]),
        s("title", "Title."),
        s("userType", "Relationship to the organization."),
        s("preferredLanguage", "Preferred written or spoken language."),
        s("locale", "Default location."),
        s("timezone", "Time zone, IANA format."),
        a("active", Boolean, "Administrative status."),
        s(
            "password",
            "Cleartext password; never returned, not stored.",
        )
        .mutability(WriteOnly)
        .returned(Returned::Never),
        c("emails", EMAIL_SUB, "Email addresses.").multi(),
        c("phoneNumbers", PHONE_SUB, "Phone numbers.").multi(),
        c("addresses", ADDRESS_SUB, "Physical mailing addresses.").multi(),
        c("groups", USER_GROUPS_SUB, "Groups the user belongs to.")
            .multi()
            .mutability(ReadOnly),
        c("roles", ROLE_SUB, "Roles.").multi(),
    ],
};

/// RFC 7643 §4.3.
pub static ENTERPRISE_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attrs: &[
        s("employeeNumber", "Employee number."),
        s("costCenter", "Cost center."),
        s("organization", "Organization."),
        s("division", "Division."),
        s("department", "Department."),
        c(
            "manager",
            &[
                s("value", "The id of the manager.").exact(),
                a("$ref", Reference, "Manager URI.").refs(&["User"]),
                s("displayName", "Manager's display name.").mutability(ReadOnly),
            ],
            "The user's manager.",
        ),
    ],
};

/// RFC 7643 §4.2.
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attrs: &[
        s("displayName", "Human-readable name for the Group.")
            .required()
            .unique(),
        c(
            "members",
            &[
                s("value", "Member id.").exact().mutability(Immutable),
                a("$ref", Reference, "Member URI.")
                    .mutability(Immutable)
                    .refs(&["User", "Group"]),
                s("display", "Member display name.").mutability(Immutable),
                s("type", "User or Group.")
                    .mutability(Immutable)
                    .canonical(&["User", "Group"]),
            ],
            "A list of members of the Group.",
        )
        .multi(),
    ],
};

/// RFC 7643 §3.1 common attributes, in every resource (not part of any schema document).
pub static COMMON: SchemaDef = SchemaDef {
    id: "",
    name: "common",
    description: "Common attributes",
    attrs: &[
        s("id", "Service-provider id.")
            .exact()
            .mutability(ReadOnly)
            .returned(Returned::Always)
            .unique(),
        s("externalId", "Client's id.").exact(),
        c(
            "meta",
            &[
                s("resourceType", "Resource type.")
                    .exact()
                    .mutability(ReadOnly),
                a("created", DateTime, "Creation time.").mutability(ReadOnly),
                a("lastModified", DateTime, "Last modification time.").mutability(ReadOnly),
                a("location", Reference, "Resource URI.").mutability(ReadOnly),
                s("version", "Version (ETag).").exact().mutability(ReadOnly),
            ],
            "Resource metadata.",
        )
        .mutability(ReadOnly),
    ],
};
