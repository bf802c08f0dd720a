#!/usr/bin/env python3
"""Write the rendered Prometheus files of one mode into DIR, laid out like /etc/prometheus.

usage: extract-prometheus.py RENDER.json|RENDER.yaml DIR

RENDER is `somagen render --mode M -o json` (a List) or a golden YAML stream. DIR receives:

- etc/prometheus/prometheus.rendered.yml: the exact rendered text;
- etc/prometheus/prometheus.yml: the same with /etc/prometheus/ paths rewritten into DIR (so
  `promtool check config` finds the rule files) and every kubernetes_sd_configs block checked
  here, then replaced by a static target: Debian's promtool (package prometheus, 2.42+ds) is
  built without Kubernetes service discovery and rejects the field as unknown;
- etc/prometheus/rules/<key> for every key of ConfigMap sharedinfra-prometheus-rules;
- a placeholder vault-ca/ca.crt when the config names one (promtool checks TLS files exist).

Prints the files it wrote. Needs PyYAML.
"""
import json
import os
import sys

import yaml

# Prometheus 2.47 kubernetes_sd_config: the roles and keys this stack may use.
K8S_SD_ROLES = {"endpoints", "endpointslice", "service", "pod", "node", "ingress"}
K8S_SD_KEYS = {"role", "namespaces", "selectors", "attach_metadata", "api_server", "kubeconfig_file"}


def check_and_replace_k8s_sd(config):
    """Validate kubernetes_sd_configs by hand, then swap them for static targets."""
    for job in config.get("scrape_configs", []):
        sds = job.pop("kubernetes_sd_configs", None)
        if sds is None:
            continue
        name = job.get("job_name")
        if not isinstance(sds, list) or not sds:
            sys.exit(f"job {name}: kubernetes_sd_configs must be a non-empty list")
        for sd in sds:
            unknown = set(sd) - K8S_SD_KEYS
            if unknown:
                sys.exit(f"job {name}: unknown kubernetes_sd_configs keys {sorted(unknown)}")
            if sd.get("role") not in K8S_SD_ROLES:
                sys.exit(f"job {name}: kubernetes_sd_configs role {sd.get('role')!r} is not one of {sorted(K8S_SD_ROLES)}")
            ns = sd.get("namespaces", {})
            if set(ns) - {"names", "own_namespace"} or not all(isinstance(n, str) for n in ns.get("names", [])):
                sys.exit(f"job {name}: bad namespaces {ns!r}")
        job["static_configs"] = [{"targets": ["kubernetes-sd.invalid:9090"]}]


def objects(path):
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("{") or text.lstrip().startswith("["):
        doc = json.loads(text)
        return doc["items"] if isinstance(doc, dict) and "items" in doc else doc
    return [d for d in yaml.safe_load_all(text) if d]


def main():
    render, out = sys.argv[1], sys.argv[2]
    cms = {
        o["metadata"]["name"]: o.get("data", {})
        for o in objects(render)
        if o.get("kind") == "ConfigMap" and o["metadata"].get("namespace") == "soma-infra"
    }
    config = cms.get("sharedinfra-prometheus-config")
    rules = cms.get("sharedinfra-prometheus-rules")
    if config is None or rules is None:
        sys.exit(f"{render}: no sharedinfra-prometheus-config/-rules ConfigMap (Prometheus disabled?)")
    etc = os.path.join(os.path.abspath(out), "etc", "prometheus")
    os.makedirs(os.path.join(etc, "rules"), exist_ok=True)
    text = config["prometheus.yml"]
    if "/etc/prometheus/vault-ca/ca.crt" in text:
        os.makedirs(os.path.join(etc, "vault-ca"), exist_ok=True)
        open(os.path.join(etc, "vault-ca", "ca.crt"), "w").close()
    path = os.path.join(etc, "prometheus.rendered.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(path)
    config = yaml.safe_load(text.replace("/etc/prometheus/", etc + "/"))
    check_and_replace_k8s_sd(config)
    path = os.path.join(etc, "prometheus.yml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    print(path)
    for key, body in sorted(rules.items()):
        path = os.path.join(etc, "rules", key)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        print(path)


if __name__ == "__main__":
    main()
