#!/usr/bin/env python3
"""DataHub's official Python client reads back what datahub-scim wrote.

Usage: acryl-readback.py SCIM_BASE_URL GMS_URL TOKEN_FILE

Provisions a user, a second user and a group (with both as members) through the
gateway's SCIM API, then reads every aspect the gateway owns through
`acryl-datahub`'s `DataHubGraph` (the SDK DataHub's own ingestion uses), checks the
values, and validates each against the SDK's Avro schema. This catches a client and
an emulator that agree with each other but not with DataHub's model.
"""
import json
import ssl
import sys
import urllib.request

from datahub.ingestion.graph.client import DataHubGraph, DatahubClientConfig
from datahub.metadata.schema_classes import (
    CorpGroupInfoClass,
    CorpUserInfoClass,
    CorpUserStatusClass,
    GroupMembershipClass,
    OriginClass,
    StatusClass,
)

scim, gms, token_file = sys.argv[1], sys.argv[2], sys.argv[3]
token = open(token_file).read().strip()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the demo's self-signed certificate, loopback only


def scim_call(method, path, body=None):
    req = urllib.request.Request(
        scim + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
    )
    with urllib.request.urlopen(req, context=ctx) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def user(name, given, family):
    return {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "userName": name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": name, "type": "work"}],
        "displayName": f"{given} {family}",
        "title": "Data Steward",
        "active": True,
        "externalId": "00u" + family.lower(),
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Governance"},
    }


failures = []


def check(what, cond):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


john = scim_call("POST", "/Users", user("john.rb@example.com", "Jöhn", "Readback"))
sid = scim_call("POST", "/Users", user("sid.rb@example.com", "Sid", "Readbäck"))
group = scim_call(
    "POST",
    "/Groups",
    {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "governance team (rb)",
        "members": [{"value": john["id"]}, {"value": sid["id"]}],
    },
)
scim_call(
    "PATCH",
    f"/Users/{sid['id']}",
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    },
)

graph = DataHubGraph(DatahubClientConfig(server=gms, token=token))
john_urn = "urn:li:corpuser:john.rb@example.com"
sid_urn = "urn:li:corpuser:sid.rb@example.com"
group_urn = "urn:li:corpGroup:governance+team+%28rb%29"

for urn in (john_urn, sid_urn, group_urn):
    check(f"exists {urn}", graph.exists(urn))

info = graph.get_aspect(john_urn, CorpUserInfoClass)
check("corpUserInfo readable", info is not None)
if info is not None:
    check("corpUserInfo validates against the SDK schema", info.validate())
    check("non-ASCII round-trips", info.firstName == "Jöhn" and info.displayName == "Jöhn Readback")
    check("email", info.email == "john.rb@example.com")
    check("department", info.departmentName == "Governance")
    check("active", info.active is True)
    check("scim.userName kept", info.customProperties.get("scim.userName") == "john.rb@example.com")

status = graph.get_aspect(sid_urn, CorpUserStatusClass)
check("sid suspended", status is not None and status.status == "SUSPENDED" and status.validate())
status = graph.get_aspect(john_urn, CorpUserStatusClass)
check("john active", status is not None and status.status == "ACTIVE" and status.validate())

origin = graph.get_aspect(john_urn, OriginClass)
check("user origin EXTERNAL", origin is not None and origin.type == "EXTERNAL" and origin.validate())
removed = graph.get_aspect(john_urn, StatusClass)
check("status.removed false", removed is not None and removed.removed is False)

for urn in (john_urn, sid_urn):
    gm = graph.get_aspect(urn, GroupMembershipClass)
    check(f"groupMembership of {urn}", gm is not None and gm.validate() and group_urn in gm.groups)

gi = graph.get_aspect(group_urn, CorpGroupInfoClass)
check("corpGroupInfo readable", gi is not None)
if gi is not None:
    check("corpGroupInfo validates", gi.validate())
    check("group displayName", gi.displayName == "governance team (rb)")
    check("required arrays present", gi.admins == [] and gi.groups == [] and isinstance(gi.members, list))
gorigin = graph.get_aspect(group_urn, OriginClass)
check("group origin EXTERNAL", gorigin is not None and gorigin.type == "EXTERNAL")

# Issue 10: a group's SCIM externalId (in origin, as DataHub Cloud keeps it) and a
# user rename (the person moves to the new name's urn, the SCIM id stays).
ext_group = scim_call(
    "POST",
    "/Groups",
    {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "entra team (rb)",
        "externalId": "8aa1a0c0-rb",
    },
)
check("group externalId returned", ext_group.get("externalId") == "8aa1a0c0-rb")
eorigin = graph.get_aspect("urn:li:corpGroup:entra+team+%28rb%29", OriginClass)
check(
    "group externalId in origin.externalType",
    eorigin is not None
    and eorigin.validate()
    and eorigin.type == "EXTERNAL"
    and eorigin.externalType == "SCIM_client_8aa1a0c0-rb",
)
pat = scim_call("POST", "/Users", user("pat.rb@example.com", "Pat", "Before"))
scim_call(
    "PATCH",
    f"/Groups/{group['id']}",
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": pat["id"]}]}],
    },
)
renamed = scim_call(
    "PATCH",
    f"/Users/{pat['id']}",
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "userName", "value": "pat.after.rb@example.com"}],
    },
)
check("rename keeps the id", renamed["id"] == pat["id"] and renamed["userName"] == "pat.after.rb@example.com")
old_urn, new_urn = "urn:li:corpuser:pat.rb@example.com", "urn:li:corpuser:pat.after.rb@example.com"
ninfo = graph.get_aspect(new_urn, CorpUserInfoClass)
check(
    "renamed user: corpUserInfo validates and keeps the id",
    ninfo is not None and ninfo.validate() and ninfo.customProperties.get("scim.id") == pat["id"],
)
ngm = graph.get_aspect(new_urn, GroupMembershipClass)
check("renamed user: group membership moved", ngm is not None and ngm.validate() and group_urn in ngm.groups)
oinfo = graph.get_aspect(old_urn, CorpUserInfoClass)
check(
    "former account forwards",
    oinfo is not None and oinfo.validate() and oinfo.customProperties.get("scim.movedTo") == new_urn,
)
ostatus = graph.get_aspect(old_urn, CorpUserStatusClass)
check("former account suspended", ostatus is not None and ostatus.status == "SUSPENDED")
ogm = graph.get_aspect(old_urn, GroupMembershipClass)
check("former account left the group", ogm is None or group_urn not in ogm.groups)

entity = graph.get_entity_semityped(john_urn)
check("entitiesV2 read through the SDK", "corpUserInfo" in entity and "corpUserStatus" in entity)

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
