# The decision vectors of policy bundle v1, run by the real OPA: `opa test --bundle files/opa`
# (.ci/validate-opa.sh, which also POSTs every one to a running OPA over HTTP).
#
# V01-V16 are the acceptance table of STACK.md §6; P01-P35 are this project's per-rule
# vectors (each rule's edges, fail-closed handling of malformed input, the wildcard choices).
# tests/policy.rs runs the same vectors with regorus and checks that this file carries
# exactly its vectors, so the two lists cannot drift apart. Not shipped: the rendered
# ConfigMap carries authz.rego, data.json and system_authz.rego only.
package soma.authz.v1_test

import future.keywords.if

import data.soma.authz.v1

# A vector passes when the decision for its input is exactly its expected decision.
passes(id) if {
	v := vectors[id]
	v1.decision == v.want with input as v.input
}

# No input document at all: every check that needs one denies (V16 with nothing sent).
test_no_input_denies_everything if {
	d := v1.decision
	d.allow == false
	d.route == "none"
	count(d.reasons) == 5
}

test_V01 if passes("V01")

test_V02 if passes("V02")

test_V03 if passes("V03")

test_V04 if passes("V04")

test_V05 if passes("V05")

test_V06 if passes("V06")

test_V07 if passes("V07")

test_V08 if passes("V08")

test_V09 if passes("V09")

test_V10 if passes("V10")

test_V11 if passes("V11")

test_V12 if passes("V12")

test_V13 if passes("V13")

test_V14 if passes("V14")

test_V15 if passes("V15")

test_V16 if passes("V16")

test_P01 if passes("P01 kind neither user nor service")

test_P02 if passes("P02 empty id")

test_P03 if passes("P03 id missing")

test_P04 if passes("P04 kind missing")

test_P05 if passes("P05 empty tenants never match")

test_P06 if passes("P06 wildcards do not make a permission known")

test_P07 if passes("P07 resource type missing")

test_P08 if passes("P08 action not a string")

test_P09 if passes("P09 tenant_admin cannot cross tenants")

test_P10 if passes("P10 resource without tenant")

test_P11 if passes("P11 platform_admin reads across tenants")

test_P12 if passes("P12 unknown role")

test_P13 if passes("P13 roles not a list")

test_P14 if passes("P14 role * grants every known permission")

test_P15 if passes("P15 role memory:* does not grant agent:invoke")

test_P16 if passes("P16 any one role suffices")

test_P17 if passes("P17 scope * is not a wildcard")

test_P18 if passes("P18 scope of another type")

test_P19 if passes("P19 scopes missing")

test_P20 if passes("P20 type:* scope grants")

test_P21 if passes("P21 service without caller")

test_P22 if passes("P22 authenticated must be the boolean true")

test_P23 if passes("P23 caller not on the allowlist")

test_P24 if passes("P24 sbr may read")

test_P25 if passes("P25 the caller check applies to services only")

test_P26 if passes("P26 an allowlisted caller still needs a granting role")

test_P27 if passes("P27 used + requested == limit is allowed (economy)")

test_P28 if passes("P28 exactly at the economy threshold stays standard")

test_P29 if passes("P29 budget with a field missing fails closed")

test_P30 if passes("P30 negative request fails closed")

test_P31 if passes("P31 budget of the wrong type fails closed")

test_P32 if passes("P32 budget null counts as absent")

test_P33 if passes("P33 several reasons come sorted")

test_P34 if passes("P34 zero budget")

test_P35 if passes("P35 denied requests never route, even under the threshold")

# id -> {id, input, want}; the input exactly as a caller POSTs it under "input".
vectors := {
	"V01": {
		"id": "V01",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"V02": {
		"id": "V02",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "globex"}, "action": "read"},
		"want": {"allow": false, "reasons": ["tenant_mismatch"], "route": "none"},
	},
	"V03": {
		"id": "V03",
		"input": {"subject": {"kind": "user", "id": "user:bob", "tenant": "acme", "roles": ["tenant_viewer"], "scopes": ["memory:write"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write"},
		"want": {"allow": false, "reasons": ["role_denied"], "route": "none"},
	},
	"V04": {
		"id": "V04",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write"},
		"want": {"allow": false, "reasons": ["scope_missing"], "route": "none"},
	},
	"V05": {
		"id": "V05",
		"input": {"subject": {"kind": "user", "id": "user:carol", "tenant": "acme", "roles": ["tenant_admin"], "scopes": ["memory:*"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "delete"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"V06": {
		"id": "V06",
		"input": {"subject": {"kind": "user", "id": "user:root", "tenant": "platform", "roles": ["platform_admin"], "scopes": ["tenant:admin"]}, "resource": {"type": "tenant", "tenant": "globex"}, "action": "admin"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"V07": {
		"id": "V07",
		"input": {"subject": {"kind": "service", "id": "service:sa01", "tenant": "acme", "roles": ["service"], "scopes": ["memory:write"]}, "caller": {"service": "sa01", "authenticated": true}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"V08": {
		"id": "V08",
		"input": {"subject": {"kind": "service", "id": "service:sbr", "tenant": "acme", "roles": ["service"], "scopes": ["memory:write"]}, "caller": {"service": "sbr", "authenticated": true}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write"},
		"want": {"allow": false, "reasons": ["s2s_denied"], "route": "none"},
	},
	"V09": {
		"id": "V09",
		"input": {"subject": {"kind": "service", "id": "service:sa01", "tenant": "acme", "roles": ["service"], "scopes": ["memory:read"]}, "caller": {"service": "sa01", "authenticated": false}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["s2s_denied"], "route": "none"},
	},
	"V10": {
		"id": "V10",
		"input": {"subject": {"kind": "service", "id": "service:sa01", "tenant": "acme", "roles": ["service"], "scopes": ["memory:read"]}, "caller": {"service": "sfm", "authenticated": true}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["s2s_denied"], "route": "none"},
	},
	"V11": {
		"id": "V11",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 99000, "tokens_requested": 2000, "limit": 100000}},
		"want": {"allow": false, "reasons": ["budget_exceeded"], "route": "none"},
	},
	"V12": {
		"id": "V12",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 90000, "tokens_requested": 1000, "limit": 100000}},
		"want": {"allow": true, "reasons": [], "route": "economy"},
	},
	"V13": {
		"id": "V13",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 1000, "tokens_requested": 1000, "limit": 100000}},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"V14": {
		"id": "V14",
		"input": {"subject": {"kind": "user", "id": "user:carol", "tenant": "acme", "roles": ["tenant_admin"], "scopes": ["memory:*"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "purge"},
		"want": {"allow": false, "reasons": ["unknown_permission"], "route": "none"},
	},
	"V15": {
		"id": "V15",
		"input": {"subject": {"kind": "user", "id": "user:eve", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["subject_invalid", "tenant_mismatch"], "route": "none"},
	},
	"V16": {
		"id": "V16",
		"input": {},
		"want": {"allow": false, "reasons": ["role_denied", "scope_missing", "subject_invalid", "tenant_mismatch", "unknown_permission"], "route": "none"},
	},
	"P01 kind neither user nor service": {
		"id": "P01 kind neither user nor service",
		"input": {"subject": {"kind": "robot", "id": "robot:r2", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["subject_invalid"], "route": "none"},
	},
	"P02 empty id": {
		"id": "P02 empty id",
		"input": {"subject": {"kind": "user", "id": "", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["subject_invalid"], "route": "none"},
	},
	"P03 id missing": {
		"id": "P03 id missing",
		"input": {"subject": {"kind": "user", "scopes": ["memory:read"], "tenant": "acme", "roles": ["tenant_member"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["subject_invalid"], "route": "none"},
	},
	"P04 kind missing": {
		"id": "P04 kind missing",
		"input": {"subject": {"scopes": ["memory:read"], "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["subject_invalid"], "route": "none"},
	},
	"P05 empty tenants never match": {
		"id": "P05 empty tenants never match",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": ""}, "action": "read"},
		"want": {"allow": false, "reasons": ["subject_invalid", "tenant_mismatch"], "route": "none"},
	},
	"P06 wildcards do not make a permission known": {
		"id": "P06 wildcards do not make a permission known",
		"input": {"subject": {"kind": "user", "id": "user:root", "tenant": "platform", "roles": ["platform_admin"], "scopes": ["memory:*"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "purge"},
		"want": {"allow": false, "reasons": ["unknown_permission"], "route": "none"},
	},
	"P07 resource type missing": {
		"id": "P07 resource type missing",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["role_denied", "scope_missing", "unknown_permission"], "route": "none"},
	},
	"P08 action not a string": {
		"id": "P08 action not a string",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": 1},
		"want": {"allow": false, "reasons": ["role_denied", "scope_missing", "unknown_permission"], "route": "none"},
	},
	"P09 tenant_admin cannot cross tenants": {
		"id": "P09 tenant_admin cannot cross tenants",
		"input": {"subject": {"kind": "user", "id": "user:carol", "tenant": "acme", "roles": ["tenant_admin"], "scopes": ["memory:*"]}, "resource": {"type": "memory", "tenant": "globex"}, "action": "delete"},
		"want": {"allow": false, "reasons": ["tenant_mismatch"], "route": "none"},
	},
	"P10 resource without tenant": {
		"id": "P10 resource without tenant",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory"}, "action": "read"},
		"want": {"allow": false, "reasons": ["tenant_mismatch"], "route": "none"},
	},
	"P11 platform_admin reads across tenants": {
		"id": "P11 platform_admin reads across tenants",
		"input": {"subject": {"kind": "user", "id": "user:root", "tenant": "platform", "roles": ["platform_admin"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "globex"}, "action": "read"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P12 unknown role": {
		"id": "P12 unknown role",
		"input": {"subject": {"kind": "user", "id": "user:mallory", "tenant": "acme", "roles": ["superuser"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["role_denied"], "route": "none"},
	},
	"P13 roles not a list": {
		"id": "P13 roles not a list",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": "tenant_member", "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["role_denied"], "route": "none"},
	},
	"P14 role * grants every known permission": {
		"id": "P14 role * grants every known permission",
		"input": {"subject": {"kind": "user", "id": "user:root", "tenant": "acme", "roles": ["platform_admin"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P15 role memory:* does not grant agent:invoke": {
		"id": "P15 role memory:* does not grant agent:invoke",
		"input": {"subject": {"kind": "user", "id": "user:dan", "tenant": "acme", "roles": ["tenant_viewer"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke"},
		"want": {"allow": false, "reasons": ["role_denied"], "route": "none"},
	},
	"P16 any one role suffices": {
		"id": "P16 any one role suffices",
		"input": {"subject": {"kind": "user", "id": "user:bob", "tenant": "acme", "roles": ["tenant_viewer", "tenant_member"], "scopes": ["memory:write"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P17 scope * is not a wildcard": {
		"id": "P17 scope * is not a wildcard",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["*"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["scope_missing"], "route": "none"},
	},
	"P18 scope of another type": {
		"id": "P18 scope of another type",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:*"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["scope_missing"], "route": "none"},
	},
	"P19 scopes missing": {
		"id": "P19 scopes missing",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["scope_missing"], "route": "none"},
	},
	"P20 type:* scope grants": {
		"id": "P20 type:* scope grants",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:*"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P21 service without caller": {
		"id": "P21 service without caller",
		"input": {"subject": {"kind": "service", "id": "service:sa01", "tenant": "acme", "roles": ["service"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["s2s_denied"], "route": "none"},
	},
	"P22 authenticated must be the boolean true": {
		"id": "P22 authenticated must be the boolean true",
		"input": {"subject": {"kind": "service", "id": "service:sa01", "tenant": "acme", "roles": ["service"], "scopes": ["memory:read"]}, "caller": {"service": "sa01", "authenticated": "true"}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["s2s_denied"], "route": "none"},
	},
	"P23 caller not on the allowlist": {
		"id": "P23 caller not on the allowlist",
		"input": {"subject": {"kind": "service", "id": "service:sfm", "tenant": "acme", "roles": ["service"], "scopes": ["memory:read"]}, "caller": {"service": "sfm", "authenticated": true}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": false, "reasons": ["s2s_denied"], "route": "none"},
	},
	"P24 sbr may read": {
		"id": "P24 sbr may read",
		"input": {"subject": {"kind": "service", "id": "service:sbr", "tenant": "acme", "roles": ["service"], "scopes": ["memory:read"]}, "caller": {"service": "sbr", "authenticated": true}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P25 the caller check applies to services only": {
		"id": "P25 the caller check applies to services only",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "caller": {"service": "sfm", "authenticated": false}, "resource": {"type": "memory", "tenant": "acme"}, "action": "read"},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P26 an allowlisted caller still needs a granting role": {
		"id": "P26 an allowlisted caller still needs a granting role",
		"input": {"subject": {"kind": "service", "id": "service:sa01", "tenant": "acme", "roles": ["tenant_viewer"], "scopes": ["memory:write"]}, "caller": {"service": "sa01", "authenticated": true}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write"},
		"want": {"allow": false, "reasons": ["role_denied"], "route": "none"},
	},
	"P27 used + requested == limit is allowed (economy)": {
		"id": "P27 used + requested == limit is allowed (economy)",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 99000, "tokens_requested": 1000, "limit": 100000}},
		"want": {"allow": true, "reasons": [], "route": "economy"},
	},
	"P28 exactly at the economy threshold stays standard": {
		"id": "P28 exactly at the economy threshold stays standard",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 89000, "tokens_requested": 1000, "limit": 100000}},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P29 budget with a field missing fails closed": {
		"id": "P29 budget with a field missing fails closed",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 1, "tokens_requested": 1}},
		"want": {"allow": false, "reasons": ["budget_exceeded"], "route": "none"},
	},
	"P30 negative request fails closed": {
		"id": "P30 negative request fails closed",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 10, "tokens_requested": -5, "limit": 100}},
		"want": {"allow": false, "reasons": ["budget_exceeded"], "route": "none"},
	},
	"P31 budget of the wrong type fails closed": {
		"id": "P31 budget of the wrong type fails closed",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": "lots"},
		"want": {"allow": false, "reasons": ["budget_exceeded"], "route": "none"},
	},
	"P32 budget null counts as absent": {
		"id": "P32 budget null counts as absent",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": null},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P33 several reasons come sorted": {
		"id": "P33 several reasons come sorted",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "globex"}, "action": "invoke", "budget": {"tokens_used": 99000, "tokens_requested": 2000, "limit": 100000}},
		"want": {"allow": false, "reasons": ["budget_exceeded", "tenant_mismatch"], "route": "none"},
	},
	"P34 zero budget": {
		"id": "P34 zero budget",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["agent:invoke"]}, "resource": {"type": "agent", "tenant": "acme"}, "action": "invoke", "budget": {"tokens_used": 0, "tokens_requested": 0, "limit": 0}},
		"want": {"allow": true, "reasons": [], "route": "standard"},
	},
	"P35 denied requests never route, even under the threshold": {
		"id": "P35 denied requests never route, even under the threshold",
		"input": {"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}, "resource": {"type": "memory", "tenant": "acme"}, "action": "write", "budget": {"tokens_used": 1, "tokens_requested": 1, "limit": 100}},
		"want": {"allow": false, "reasons": ["scope_missing"], "route": "none"},
	},
}
