# Who may call OPA's API (system_authz.rego), run by `opa test --bundle files/opa`
# (.ci/validate-opa.sh, which also proves these against a running OPA over HTTP).
package system.authz_test

import future.keywords.if

import data.system.authz

req(method, path) := {"method": method, "path": path, "headers": {}, "params": {}}

test_clients_get_decisions if {
	authz.allow with input as req("POST", ["v1", "data", "soma", "authz", "v1", "decision"])
}

test_probes_read_health if {
	authz.allow with input as req("GET", ["health"])
	authz.allow with input as req("GET", ["health", "live"])
}

test_prometheus_reads_metrics if {
	authz.allow with input as req("GET", ["metrics"])
}

test_no_write_to_policies if {
	not authz.allow with input as req("PUT", ["v1", "policies", "evil"])
	not authz.allow with input as req("DELETE", ["v1", "policies", "authz.rego"])
}

test_no_write_to_data if {
	not authz.allow with input as req("PUT", ["v1", "data", "sharedinfra", "authz"])
	not authz.allow with input as req("PATCH", ["v1", "data", "sharedinfra", "authz"])
	not authz.allow with input as req("DELETE", ["v1", "data", "sharedinfra", "authz"])
	not authz.allow with input as req("PUT", ["v1", "data"])
}

test_no_reads_besides_the_decision if {
	not authz.allow with input as req("GET", ["v1", "data", "sharedinfra", "authz"])
	not authz.allow with input as req("GET", ["v1", "data", "soma", "authz", "v1", "decision"])
	not authz.allow with input as req("POST", ["v1", "data", "sharedinfra", "authz"])
	not authz.allow with input as req("POST", ["v1", "data", "soma", "authz", "v1"])
	not authz.allow with input as req("GET", ["v1", "policies"])
	not authz.allow with input as req("POST", ["v1", "query"])
	not authz.allow with input as req("POST", ["v1", "compile"])
	not authz.allow with input as req("GET", ["v1", "config"])
	not authz.allow with input as req("POST", [""])
}

test_no_input_is_refused if {
	not authz.allow
}
