//! The DataHub GMS client: typed aspects, urns, Rest.li, GraphQL, errors,
//! conditional writes. Knows nothing of SCIM.
