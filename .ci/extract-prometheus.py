#!/usr/bin/env python3
"""Write the rendered Prometheus files of one mode into DIR, laid out like /etc/prometheus.

usage: extract-prometheus.py RENDER.json|RENDER.yaml DIR

RENDER is `somagen render --mode M -o json` (a List) or a golden YAML stream. DIR receives:

- etc/prometheus/prometheus.rendered.yml: the exact rendered text;
- etc/prometheus/prometheus.yml: the same text with only the /etc/prometheus/ prefix rewritten
  into DIR, so `promtool check config` finds the rule files and the TLS files it checks;
- etc/prometheus/rules/<key> for every key of ConfigMap sharedinfra-prometheus-rules;
- a placeholder vault-ca/ca.crt when the config names one (promtool checks TLS files exist).

Prints the files it wrote. Needs PyYAML for golden files.
"""
import json
import os
import sys


def objects(path):
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("{") or text.lstrip().startswith("["):
        doc = json.loads(text)
        return doc["items"] if isinstance(doc, dict) and "items" in doc else doc
    import yaml

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
    path = os.path.join(etc, "prometheus.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace("/etc/prometheus/", etc + "/"))
    print(path)
    for key, body in sorted(rules.items()):
        path = os.path.join(etc, "rules", key)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        print(path)


if __name__ == "__main__":
    main()
