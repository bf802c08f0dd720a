#!/usr/bin/env python3
"""Print one piece of a rendered manifest stream, for the .ci/validate-* scripts.

usage:
  extract-data.py STREAM configmap NAME KEY      the text of ConfigMap NAME's data[KEY]
  extract-data.py STREAM args KIND NAME CONTAINER   the container's args, one per line
  extract-data.py STREAM script KIND NAME CONTAINER the script of a [sh|bash, -c|-ec, SCRIPT]
                                                    command (init containers too)
  extract-data.py STREAM replicas KIND NAME       spec.replicas
  extract-data.py STREAM exists KIND NAME         exit 0 if the object is rendered, else 1
  extract-data.py STREAM env KIND NAME CONTAINER  the container's literal env, NAME=VALUE per line

KIND may be CronJob: its Job template's pod is searched.

STREAM is a golden file (golden/<mode>.yaml) or `somagen render -o json` output. Needs PyYAML
(the .ci venv has it through kubernetes-validate and checkov).
"""
import json
import sys

import yaml


def load(path):
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("{"):
        return json.loads(text)["items"]
    return [d for d in yaml.safe_load_all(text) if d]


def find(items, kind, name):
    for o in items:
        if o.get("kind") == kind and o.get("metadata", {}).get("name") == name:
            return o
    return None


def pod_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def container(obj, name):
    spec = pod_spec(obj)
    for c in spec.get("initContainers", []) + spec["containers"]:
        if c["name"] == name:
            return c
    sys.exit(f"{obj['kind']}/{obj['metadata']['name']} has no container {name}")


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    items = load(argv[1])
    what = argv[2]
    if what == "configmap":
        cm = find(items, "ConfigMap", argv[3])
        if cm is None or argv[4] not in cm.get("data", {}):
            sys.exit(f"ConfigMap {argv[3]} has no key {argv[4]}")
        sys.stdout.write(cm["data"][argv[4]])
    elif what == "args":
        obj = find(items, argv[3], argv[4])
        if obj is None:
            sys.exit(f"{argv[3]}/{argv[4]} is not rendered")
        print("\n".join(container(obj, argv[5]).get("args", [])))
    elif what == "script":
        obj = find(items, argv[3], argv[4])
        if obj is None:
            sys.exit(f"{argv[3]}/{argv[4]} is not rendered")
        cmd = container(obj, argv[5]).get("command", [])
        if len(cmd) != 3 or cmd[0] not in ("sh", "bash") or cmd[1] not in ("-c", "-ec"):
            sys.exit(f"{argv[3]}/{argv[4]}/{argv[5]}: command is not [sh|bash, -c|-ec, SCRIPT]: {cmd}")
        sys.stdout.write(cmd[2] if cmd[2].endswith("\n") else cmd[2] + "\n")
    elif what == "replicas":
        obj = find(items, argv[3], argv[4])
        if obj is None:
            sys.exit(f"{argv[3]}/{argv[4]} is not rendered")
        print(obj["spec"].get("replicas", 1))
    elif what == "env":
        obj = find(items, argv[3], argv[4])
        if obj is None:
            sys.exit(f"{argv[3]}/{argv[4]} is not rendered")
        for e in container(obj, argv[5]).get("env", []):
            if "value" in e:
                print(f"{e['name']}={e['value']}")
    elif what == "exists":
        sys.exit(0 if find(items, argv[3], argv[4]) else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
