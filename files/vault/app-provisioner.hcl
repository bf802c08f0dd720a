# Vault policy sharedinfra-app-provisioner (docs/runbook.md §6): what the application wire-up's
# Vault Job may do from staging on, with the token of Secret sharedinfra-vault-provisioner.
# It writes the apps' policies (named app-<app>) and their Kubernetes-auth roles, nothing else.
# A role names its policies, so whoever holds this token can give a role any policy: keep the
# token in Vault (<pathPrefix>/<mode>/vault-provisioner) and nowhere else.
path "sys/policies/acl/app-*" {
  capabilities = ["create", "read", "update"]
}
path "auth/kubernetes/role/*" {
  capabilities = ["create", "read", "update"]
}
