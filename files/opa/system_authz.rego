# OPA's own API authorization (`--authentication=token --authorization=basic`).
#
# OPA evaluates data.system.authz.allow for every request on both listeners, the API (8181)
# and the diagnostic one (8282). Clients may only ask for a decision; the kubelet's probes and
# Prometheus may read health and metrics; nothing else is served, so no client can read the
# policy or its data, or write either (the bundle owns every path besides: STACK.md §6).
#
# Written for OPA 0.57 with future keywords, like authz.rego.
package system.authz

import future.keywords.if

default allow := false

# POST /v1/data/soma/authz/v1/decision: the decision path of the endpoints contract
# (sharedinfra-endpoints: OPA_URL + "/" + OPA_DECISION_PATH).
allow if {
	input.method == "POST"
	input.path == ["v1", "data", "soma", "authz", "v1", "decision"]
}

# GET /health, /health?plugins and /health/<policy>: readiness and liveness probes.
allow if {
	input.method == "GET"
	input.path[0] == "health"
}

# GET /metrics: Prometheus, on the diagnostic listener.
allow if {
	input.method == "GET"
	input.path == ["metrics"]
}
