# SomaStack policy bundle v1 (STACK.md §6).
#
# Query:  POST /v1/data/soma/authz/v1/decision  {"input": {...}}
# Reply:  {"result": {"allow": bool, "reasons": [sorted deny reasons], "route": "standard"|"economy"|"none"}}
#
# Default deny: `allow` holds only when no deny reason fires. Configuration (permissions,
# role grants, the service-to-service allowlist and the economy threshold) is read from
# data.sharedinfra.authz, shipped beside this file as data.json.
#
# Tokens (docs/policy.md, "Tokens"): when the input carries `token` (a JWT, optionally with a
# "Bearer " prefix), the subject is taken from its verified claims and `input.subject` is
# ignored; a token that fails any check denies with `token_invalid`. The issuer, audience,
# algorithm, clock skew and JWKS URL come from data.sharedinfra.identity, which the stack
# renders from values (ConfigMap sharedinfra-opa-identity).
#
# Written for OPA 0.57 with future keywords; every rule uses `if` and partial sets use
# `contains`, so the file is also valid Rego v1. Tested by tests/policy.rs (regorus).
package soma.authz.v1

import future.keywords.contains
import future.keywords.if
import future.keywords.in

cfg := data.sharedinfra.authz

idp := data.sharedinfra.identity

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

# A token was given and is not a valid token of the configured issuer (signature, issuer,
# audience, expiry, required claims).
deny contains "token_invalid" if {
	has_token
	not token_subject
}

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
	subject.kind == "service"
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
	subject.kind in {"user", "service"}
	present(subject.id)
	present(subject.tenant)
}

# Undefined unless resource.type and action are both non-empty strings.
permission := concat(":", [input.resource.type, input.action]) if {
	present(input.resource.type)
	present(input.action)
}

permission_known if permission in cfg.permissions

tenant_match if {
	present(subject.tenant)
	subject.tenant == input.resource.tenant
}

subject_roles := subject.roles if {
	is_array(subject.roles)
} else := []

subject_scopes := subject.scopes if {
	is_array(subject.scopes)
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
	subject.id == concat("", ["service:", input.caller.service])
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

# ---------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------

# The subject the decision is about: the token's, when a token is given (undefined when it
# is invalid, so every subject check fails closed), else the one in the input.
subject := token_subject if has_token

subject := input.subject if not has_token

has_token if input.token != null

# The compact JWT, without an optional "Bearer " prefix.
jwt := trim_prefix(input.token, "Bearer ") if is_string(input.token)

# The JWKS of the issuer, fetched over HTTP and cached as the issuer's Cache-Control allows
# (Dex sends max-age = the time to its next key rotation). Undefined when the issuer cannot
# be reached or answers anything but 200: every token is then invalid (fail closed).
jwks := resp.raw_body if {
	present(idp.jwks_url)
	resp := http.send({
		"method": "GET",
		"url": idp.jwks_url,
		"cache": true,
		"raise_error": false,
		"timeout": idp.jwks_timeout,
	})
	resp.status_code == 200
}

token_now := time.now_ns()

skew_ns := idp.clock_skew_seconds * 1000000000

# The unverified claims, used only to choose the instant the token is checked at: now, moved
# by at most the allowed clock skew into the token's validity window. A token that expired
# less than `clock_skew_seconds` ago is checked 1 ms before its `exp`; one whose `nbf` is less
# than that ahead is checked at its `nbf`. Everything else is checked at now.
unverified := io.jwt.decode(jwt)[1]

verify_at := (unverified.exp * 1000000000) - 1000000 if {
	is_number(unverified.exp)
	unverified.exp * 1000000000 <= token_now
	token_now - skew_ns < unverified.exp * 1000000000
} else := unverified.nbf * 1000000000 if {
	is_number(unverified.nbf)
	unverified.nbf * 1000000000 > token_now
	unverified.nbf * 1000000000 <= token_now + skew_ns
} else := token_now

# Signature (a key of the JWKS, the configured algorithm only), issuer, audience, `exp` and
# `nbf`, checked by OPA's own verifier.
claims := c if {
	present(idp.issuer)
	present(idp.audience)
	[valid, _, c] := io.jwt.decode_verify(jwt, {
		"cert": jwks,
		"alg": idp.algorithm,
		"iss": idp.issuer,
		"aud": idp.audience,
		"time": verify_at,
	})
	valid == true
}

# The subject of a verified token. `exp` and `sub` are required (decode_verify accepts a
# token without `exp`); the tenant is the `tenant` claim, else the one `tenant:<t>` group;
# roles are the `roles` claim (a list), else the `role:<r>` groups; scopes are the `scope`
# claim (space-separated, RFC 8693) or `scp` (a list), plus the `scope:<s>` groups.
token_subject := {
	"kind": "user",
	"id": concat("", ["user:", claims.sub]),
	"tenant": token_tenant,
	"roles": token_roles,
	"scopes": token_scopes,
} if {
	is_number(claims.exp)
	present(claims.sub)
	present(token_tenant)
}

claim_groups := [g | some g in claims.groups; is_string(g)] if is_array(claims.groups)

else := []

prefixed(prefix) := [trim_prefix(g, prefix) | some g in claim_groups; startswith(g, prefix); g != prefix]

token_tenant := claims.tenant if {
	present(claims.tenant)
} else := t if {
	not claims.tenant
	[t] := prefixed("tenant:")
}

token_roles := [r | some r in claims.roles; is_string(r)] if {
	is_array(claims.roles)
} else := prefixed("role:")

token_scopes := array.concat(claim_scopes, prefixed("scope:"))

claim_scopes := [s | some s in split(claims.scope, " "); s != ""] if {
	is_string(claims.scope)
} else := [s | some s in claims.scp; is_string(s)] if {
	is_array(claims.scp)
} else := []
