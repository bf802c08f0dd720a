# SomaStack policy bundle v1 (STACK.md §6).
#
# Query:  POST /v1/data/soma/authz/v1/decision  {"input": {...}}
# Reply:  {"result": {"allow": bool, "reasons": [sorted deny reasons], "route": "standard"|"economy"|"none"}}
#
# Default deny: `allow` holds only when no deny reason fires. Configuration (permissions,
# role grants, the service-to-service allowlist and the economy threshold) is read from
# data.sharedinfra.authz, shipped beside this file as data.json.
#
# Written for OPA 0.57 with future keywords; every rule uses `if` and partial sets use
# `contains`, so the file is also valid Rego v1. Tested by tests/policy.rs (regorus).
package soma.authz.v1

import future.keywords.contains
import future.keywords.if
import future.keywords.in

cfg := data.sharedinfra.authz

# ---------------------------------------------------------------------------------------
# Decision
# ---------------------------------------------------------------------------------------

decision := {
	"allow": allow,
	"reasons": sort([reason | some reason in deny]),
	"route": route,
}

default allow := false

allow if count(deny) == 0

default route := "none"

route := "economy" if {
	allow
	economy
}

route := "standard" if {
	allow
	not economy
}

# ---------------------------------------------------------------------------------------
# Deny reasons (the decision table of STACK.md §6)
# ---------------------------------------------------------------------------------------

# `id` or `tenant` missing (or empty), or `kind` neither user nor service.
deny contains "subject_invalid" if not subject_valid

# "<resource.type>:<action>" is not a permission listed in data.json.
deny contains "unknown_permission" if not permission_known

# The subject's tenant differs from the resource's (a missing tenant never matches),
# unless the subject holds the platform_admin role.
deny contains "tenant_mismatch" if {
	not tenant_match
	not platform_admin
}

# No role of the subject grants the permission ("*" and "<type>:*" count).
deny contains "role_denied" if not role_grants

# No scope of the subject grants the permission ("<type>:*" counts).
deny contains "scope_missing" if not scope_grants

# A service subject must come through an authenticated caller that is itself, and the
# permission must be on that caller's allowlist.
deny contains "s2s_denied" if {
	input.subject.kind == "service"
	not s2s_ok
}

# used + requested > limit. A budget that is present but malformed (a field missing,
# not a number, or negative) also denies: callers fail closed.
deny contains "budget_exceeded" if {
	has_budget
	not budget_valid
}

deny contains "budget_exceeded" if {
	budget_valid
	budget_total > input.budget.limit
}

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------

# A non-empty string.
present(x) if {
	is_string(x)
	x != ""
}

subject_valid if {
	input.subject.kind in {"user", "service"}
	present(input.subject.id)
	present(input.subject.tenant)
}

# Undefined unless resource.type and action are both non-empty strings.
permission := concat(":", [input.resource.type, input.action]) if {
	present(input.resource.type)
	present(input.action)
}

permission_known if permission in cfg.permissions

tenant_match if {
	present(input.subject.tenant)
	input.subject.tenant == input.resource.tenant
}

subject_roles := input.subject.roles if {
	is_array(input.subject.roles)
} else := []

subject_scopes := input.subject.scopes if {
	is_array(input.subject.scopes)
} else := []

platform_admin if "platform_admin" in subject_roles

# A grant pattern matches a permission exactly or as "<type>:*".
pattern_matches(pattern, perm) if {
	is_string(pattern)
	pattern == perm
}

pattern_matches(pattern, perm) if {
	is_string(pattern)
	endswith(pattern, ":*")
	startswith(perm, trim_suffix(pattern, "*"))
}

role_grants if {
	some role in subject_roles
	is_string(role)
	some pattern in cfg.role_permissions[role]
	pattern == "*"
	permission
}

role_grants if {
	some role in subject_roles
	is_string(role)
	some pattern in cfg.role_permissions[role]
	pattern_matches(pattern, permission)
}

scope_grants if {
	some scope in subject_scopes
	pattern_matches(scope, permission)
}

s2s_ok if {
	input.caller.authenticated == true
	present(input.caller.service)
	input.subject.id == concat("", ["service:", input.caller.service])
	permission in cfg.s2s_allow[input.caller.service]
}

has_budget if input.budget != null

non_negative(x) if {
	is_number(x)
	x >= 0
}

budget_valid if {
	non_negative(input.budget.tokens_used)
	non_negative(input.budget.tokens_requested)
	non_negative(input.budget.limit)
}

budget_total := input.budget.tokens_used + input.budget.tokens_requested if budget_valid

# Allowed, but past the economy threshold of the budget: route to the cheaper tier.
economy if {
	budget_valid
	budget_total > input.budget.limit * cfg.economy_threshold
}
