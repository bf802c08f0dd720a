#!/usr/bin/env python3
"""Checks of the control-plane harness (.ci/cluster/run) that are easier on parsed JSON.

usage:
  check.py ids STREAM                  one line per object of a manifest stream (YAML or the
                                       JSON List of `somagen render -o json`):
                                       group/Kind/namespace/name, sorted
  check.py kinds STREAM...             the resource types of the streams, comma-separated, as
                                       `kubectl get` takes them (kind.group)
  check.py live LIVE.json              the same id lines for `kubectl get -o json` output
  check.py pods STREAM LIVE.json       every Deployment, StatefulSet and Job of STREAM has all
                                       its pods in LIVE (`kubectl get deploy,rs,sts,job,pod -o
                                       json`): prints "created/expected" and exits 1 listing
                                       each workload that is short
  check.py events EVENTS.json          prints the FailedCreate events (exit 1 if any refuses a
                                       pod: PodSecurity, forbidden, invalid)

Needs PyYAML for YAML streams.
"""
import json
import sys


def load(path):
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        return doc.get("items", [doc])
    import yaml

    return [d for d in yaml.safe_load_all(text) if d]


def ident(o):
    group = o["apiVersion"].rpartition("/")[0]
    meta = o["metadata"]
    return f"{group}/{o['kind']}/{meta.get('namespace', '')}/{meta['name']}"


def ids(path):
    for line in sorted(ident(o) for o in load(path)):
        print(line)


def kinds(paths):
    seen = []
    for o in (o for path in paths for o in load(path)):
        group = o["apiVersion"].rpartition("/")[0]
        k = o["kind"].lower() + ("." + group if group else "")
        if k not in seen:
            seen.append(k)
    print(",".join(seen))


def pods(stream, live_path):
    wanted = [o for o in load(stream) if o["kind"] in ("Deployment", "StatefulSet", "Job")]
    live = json.load(open(live_path, encoding="utf-8"))["items"]
    by_uid = {o["metadata"]["uid"]: o for o in live}
    owner_of = {}  # pod uid -> (kind, name) of the workload that created it
    for o in live:
        if o["kind"] != "Pod":
            continue
        refs = [r for r in o["metadata"].get("ownerReferences", []) if r.get("controller")]
        if not refs:
            continue
        ref = refs[0]
        parent = by_uid.get(ref["uid"])
        if ref["kind"] == "ReplicaSet" and parent:
            prefs = [r for r in parent["metadata"].get("ownerReferences", []) if r.get("controller")]
            if prefs:
                ref = prefs[0]
        owner_of[o["metadata"]["uid"]] = (ref["kind"], ref["name"])
    counts = {}
    for kind_name in owner_of.values():
        counts[kind_name] = counts.get(kind_name, 0) + 1
    live_spec = {(o["kind"], o["metadata"]["name"]): o["spec"] for o in live}
    short, created, expected = [], 0, 0
    for o in wanted:
        key = (o["kind"], o["metadata"]["name"])
        spec = live_spec.get(key)
        if spec is None:
            short.append(f"{key[0]}/{key[1]}: not in the cluster")
            continue
        if o["kind"] == "Job":
            want = min(spec.get("parallelism", 1), spec.get("completions", 1))
        else:
            want = spec.get("replicas", 1)
        have = counts.get(key, 0)
        created += min(have, want)
        expected += want
        if have < want:
            short.append(f"{key[0]}/{key[1]}: {have} of {want} pods")
    print(f"{created}/{expected}")
    if short:
        print("\n".join(short), file=sys.stderr)
        sys.exit(1)


def events(path):
    refused = False
    for e in json.load(open(path, encoding="utf-8"))["items"]:
        if e.get("reason") != "FailedCreate":
            continue
        obj = e.get("involvedObject", {})
        msg = e.get("message", "")
        print(f"FailedCreate {obj.get('kind')}/{obj.get('name')} (x{e.get('count', 1)}): {msg}")
        # A missing default ServiceAccount right after the namespace appears is retried by the
        # controller; anything the API server refuses on the pod's content is a defect.
        if "forbidden" in msg or "PodSecurity" in msg or "invalid" in msg.lower():
            if "serviceaccount" not in msg.lower():
                refused = True
    sys.exit(1 if refused else 0)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "ids":
        ids(argv[2])
    elif cmd == "kinds":
        kinds(argv[2:])
    elif cmd == "live":
        for line in sorted(ident(o) for o in json.load(open(argv[2]))["items"]):
            print(line)
    elif cmd == "pods" and len(argv) == 4:
        pods(argv[2], argv[3])
    elif cmd == "events":
        events(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
