//! Routing: a `match` on method and path segments under the two SCIM prefixes
//! (`/openapi/scim/v2`, the path DataHub Cloud uses, and `/scim/v2`). Pure: it names
//! the operation (for metrics and logs) and the resource, or says 404 / 405.

use http::Method;

/// The SCIM path prefixes served, longest first.
pub const PREFIXES: [&str; 2] = ["/openapi/scim/v2", "/scim/v2"];

/// What a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `Users`, `Users/{id}`, `Users/.search`: handled by `handlers::users`.
    Users,
    /// `Groups`, `Groups/{id}`, `Groups/.search`: handled by `handlers::groups`.
    Groups,
    /// `GET ServiceProviderConfig`.
    ServiceProviderConfig,
    /// `GET ResourceTypes[/{name}]`.
    ResourceTypes(Option<String>),
    /// `GET Schemas[/{urn}]`.
    Schemas(Option<String>),
    /// `POST /.search` across resource types.
    RootSearch,
    /// `POST /Bulk` (RFC 7644 §3.7).
    Bulk,
}

/// A matched route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The handler to call.
    pub target: Target,
    /// Operation name for metrics and logs, e.g. `users.create`.
    pub operation: &'static str,
    /// Resource type label: `User`, `Group`, `discovery`, `bulk` or `none`.
    pub resource: &'static str,
    /// The SCIM prefix the request used (for `meta.location`).
    pub prefix: &'static str,
    /// Percent-decoded path segments after the prefix.
    pub segments: Vec<String>,
}

/// Why no route matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No such resource.
    NotFound,
    /// The resource exists but not with this method; `allow` lists the methods it has.
    MethodNotAllowed {
        /// Value of the `Allow` header.
        allow: &'static str,
        /// Operation name of the path, for metrics.
        operation: &'static str,
        /// Resource label of the path.
        resource: &'static str,
    },
}

/// Splits `path` into its SCIM prefix and decoded segments, if it is under one.
fn split(path: &str) -> Option<(&'static str, Vec<String>)> {
    let prefix = PREFIXES.iter().find(|p| {
        path.strip_prefix(**p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })?;
    let rest = &path[prefix.len()..];
    let segments = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    Some((prefix, segments))
}

/// Matches a request.
pub fn route(method: &Method, path: &str) -> Result<Route, Miss> {
    let (prefix, segments) = split(path).ok_or(Miss::NotFound)?;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = method.as_str();
    let not_allowed = |allow, operation, resource| {
        Err(Miss::MethodNotAllowed {
            allow,
            operation,
            resource,
        })
    };
    let ok = |target, operation, resource| {
        Ok(Route {
            target,
            operation,
            resource,
            prefix,
            segments: segments.clone(),
        })
    };
    match (segs.as_slice(), m) {
        ([kind @ ("Users" | "Groups")], _) => {
            let user = *kind == "Users";
            let (t, r) = if user {
                (Target::Users, "User")
            } else {
                (Target::Groups, "Group")
            };
            match (m, user) {
                ("GET", true) => ok(t, "users.list", r),
                ("POST", true) => ok(t, "users.create", r),
                ("GET", false) => ok(t, "groups.list", r),
                ("POST", false) => ok(t, "groups.create", r),
                _ => not_allowed(
                    "GET, POST",
                    if user { "users.list" } else { "groups.list" },
                    r,
                ),
            }
        }
        ([kind @ ("Users" | "Groups"), ".search"], _) => {
            let user = *kind == "Users";
            let (t, r, op) = if user {
                (Target::Users, "User", "users.search")
            } else {
                (Target::Groups, "Group", "groups.search")
            };
            if m == "POST" {
                ok(t, op, r)
            } else {
                not_allowed("POST", op, r)
            }
        }
        ([kind @ ("Users" | "Groups"), _id], _) => {
            let user = *kind == "Users";
            let (t, r) = if user {
                (Target::Users, "User")
            } else {
                (Target::Groups, "Group")
            };
            let op = match (m, user) {
                ("GET", true) => "users.get",
                ("PUT", true) => "users.replace",
                ("PATCH", true) => "users.patch",
                ("DELETE", true) => "users.delete",
                ("GET", false) => "groups.get",
                ("PUT", false) => "groups.replace",
                ("PATCH", false) => "groups.patch",
                ("DELETE", false) => "groups.delete",
                _ => {
                    return not_allowed(
                        "GET, PUT, PATCH, DELETE",
                        if user { "users.get" } else { "groups.get" },
                        r,
                    )
                }
            };
            ok(t, op, r)
        }
        (["ServiceProviderConfig"], "GET") => ok(
            Target::ServiceProviderConfig,
            "discovery.service_provider_config",
            "discovery",
        ),
        (["ServiceProviderConfig"], _) => {
            not_allowed("GET", "discovery.service_provider_config", "discovery")
        }
        (["ResourceTypes"], "GET") => ok(
            Target::ResourceTypes(None),
            "discovery.resource_types",
            "discovery",
        ),
        (["ResourceTypes", name], "GET") => ok(
            Target::ResourceTypes(Some((*name).to_owned())),
            "discovery.resource_types",
            "discovery",
        ),
        (["ResourceTypes"] | ["ResourceTypes", _], _) => {
            not_allowed("GET", "discovery.resource_types", "discovery")
        }
        (["Schemas"], "GET") => ok(Target::Schemas(None), "discovery.schemas", "discovery"),
        (["Schemas", urn], "GET") => ok(
            Target::Schemas(Some((*urn).to_owned())),
            "discovery.schemas",
            "discovery",
        ),
        (["Schemas"] | ["Schemas", _], _) => not_allowed("GET", "discovery.schemas", "discovery"),
        ([".search"], "POST") => ok(Target::RootSearch, "search", "none"),
        ([".search"], _) => not_allowed("POST", "search", "none"),
        (["Bulk"], "POST") => ok(Target::Bulk, "bulk", "bulk"),
        (["Bulk"], _) => not_allowed("POST", "bulk", "bulk"),
        _ => Err(Miss::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(m: &str, p: &str) -> Result<&'static str, Miss> {
        route(&Method::from_bytes(m.as_bytes()).expect("method"), p).map(|r| r.operation)
    }

    #[test]
    fn both_prefixes_and_operations() {
        assert_eq!(op("POST", "/scim/v2/Users"), Ok("users.create"));
        assert_eq!(op("GET", "/openapi/scim/v2/Users"), Ok("users.list"));
        assert_eq!(op("PATCH", "/scim/v2/Groups/abc"), Ok("groups.patch"));
        assert_eq!(op("POST", "/scim/v2/Groups/.search"), Ok("groups.search"));
        assert_eq!(
            op(
                "GET",
                "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
            ),
            Ok("discovery.schemas")
        );
        assert_eq!(op("POST", "/scim/v2/.search"), Ok("search"));
        assert_eq!(op("POST", "/scim/v2/Bulk"), Ok("bulk"));
        assert_eq!(op("POST", "/openapi/scim/v2/Bulk"), Ok("bulk"));
        let r = route(&Method::GET, "/openapi/scim/v2/Users/a%2Fb").expect("route");
        assert_eq!(r.segments, vec!["Users", "a/b"]);
        assert_eq!(r.prefix, "/openapi/scim/v2");
    }

    #[test]
    fn misses() {
        assert_eq!(op("GET", "/scim/v2x/Users"), Err(Miss::NotFound));
        assert_eq!(op("GET", "/scim/v2/Nope"), Err(Miss::NotFound));
        assert_eq!(op("GET", "/scim/v2/Users/a/b"), Err(Miss::NotFound));
        assert_eq!(op("GET", "/metrics"), Err(Miss::NotFound));
        assert!(matches!(
            op("DELETE", "/scim/v2/Users"),
            Err(Miss::MethodNotAllowed {
                allow: "GET, POST",
                ..
            })
        ));
        assert!(matches!(
            op("POST", "/scim/v2/Users/x"),
            Err(Miss::MethodNotAllowed { .. })
        ));
        assert!(matches!(
            op("GET", "/scim/v2/.search"),
            Err(Miss::MethodNotAllowed { allow: "POST", .. })
        ));
        assert!(matches!(
            op("GET", "/scim/v2/Bulk"),
            Err(Miss::MethodNotAllowed { allow: "POST", .. })
        ));
        assert_eq!(op("POST", "/scim/v2/Bulk/x"), Err(Miss::NotFound));
    }
}
