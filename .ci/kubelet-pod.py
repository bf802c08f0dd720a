#!/usr/bin/env python3
"""Lay out one container's Secret/ConfigMap volumes as the kubelet would, and say as whom it runs.

usage: kubelet-pod.py MANIFESTS WORKLOAD CONTAINER ROOT [CONTENTS.json]

MANIFESTS is a YAML stream (`somagen smoke`, `somagen render`); WORKLOAD the metadata.name of a
Job, Deployment or StatefulSet; CONTAINER the container name ("" = the first one). Every secret,
configMap and projected volume the container mounts is written below ROOT/<mountPath> the way
the kubelet's atomic writer and SetVolumeOwnership leave it (must run as root). WORKLOAD "*"
lays out every container (init containers too) of every workload, each below
ROOT/<workload>/<container>/<mountPath>, and prints a pod= line before each one's lines:

  - files are owned by root; their group is the pod's fsGroup if set, else root;
  - their mode is the item's `mode`, else the volume's `defaultMode` (default 0644); with an
    fsGroup the kubelet adds 0440 (volumes of these kinds are read-only);
  - directories are 0755 (with an fsGroup: group fsGroup, setgid, g+rx).

File contents come from CONTENTS.json ({"Secret/NAME": {"KEY": "text"}, "ConfigMap/NAME": ...}),
else from a ConfigMap of MANIFESTS, else a placeholder. Prints, one per line:
  pod=<workload>/<container>                                          (WORKLOAD "*" only)
  uid=<runAsUser> gid=<runAsGroup> groups=<supplementalGroups + fsGroup, comma-separated>
  file=<path of each file laid out>
The container's securityContext overrides the pod's, as in Kubernetes.
"""
import json
import os
import sys

import yaml


def main():
    manifests, workload, container_name, root = sys.argv[1:5]
    contents = json.load(open(sys.argv[5])) if len(sys.argv) > 5 else {}
    docs = [d for d in yaml.safe_load_all(open(manifests)) if d]
    if len(docs) == 1 and docs[0].get("kind") == "List":
        docs = docs[0]["items"]
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d.get("kind") == "ConfigMap"}
    # The keys of each Secret the render provides: a Secret, an ExternalSecret's target, a
    # cert-manager Certificate's secretName.
    secret_keys = {}
    for d in docs:
        if d.get("kind") == "Secret":
            secret_keys[d["metadata"]["name"]] = list(d.get("data", {})) + list(d.get("stringData", {}))
        elif d.get("kind") == "ExternalSecret":
            target = d["spec"].get("target", {}).get("name", d["metadata"]["name"])
            secret_keys[target] = [e["secretKey"] for e in d["spec"].get("data", [])]
        elif d.get("kind") == "Certificate":
            secret_keys[d["spec"]["secretName"]] = ["tls.crt", "tls.key", "ca.crt"]
    workloads = [d for d in docs if d["kind"] in ("Job", "Deployment", "StatefulSet")]
    if workload == "*":
        for obj in workloads:
            pod = obj["spec"]["template"]["spec"]
            for c in pod.get("initContainers", []) + pod["containers"]:
                name = obj["metadata"]["name"]
                print(f"pod={name}/{c['name']}")
                layout(name, pod, c, os.path.join(root, name, c["name"]), contents, configmaps, secret_keys)
        return
    objs = [d for d in workloads if d["metadata"]["name"] == workload]
    if len(objs) != 1:
        sys.exit(f"kubelet-pod: no single workload {workload} in {manifests}")
    pod = objs[0]["spec"]["template"]["spec"]
    containers = pod.get("initContainers", []) + pod["containers"]
    if container_name:
        matches = [c for c in containers if c["name"] == container_name]
        if not matches:
            sys.exit(f"kubelet-pod: {workload} has no container {container_name}")
        c = matches[0]
    else:
        c = pod["containers"][0]
    layout(workload, pod, c, root, contents, configmaps, secret_keys)


def layout(workload, pod, c, root, contents, configmaps, secret_keys):
    """Writes the container's secret/configMap/projected mounts below root; prints who runs it."""
    psc = pod.get("securityContext", {})
    csc = c.get("securityContext", {})
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    gid = csc.get("runAsGroup", psc.get("runAsGroup"))
    if uid is None or gid is None:
        sys.exit(f"kubelet-pod: {workload}/{c['name']} sets no runAsUser/runAsGroup")
    fs_group = psc.get("fsGroup")
    groups = list(psc.get("supplementalGroups", []))
    if fs_group is not None and fs_group not in groups:
        groups.append(fs_group)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}

    def content(kind, name, key):
        given = contents.get(f"{kind}/{name}", {})
        if key in given:
            return given[key]
        if kind == "ConfigMap" and key in configmaps.get(name, {}):
            return configmaps[name][key]
        return f"placeholder {kind}/{name}/{key}\n"

    def sources(volume):
        """(kind, name, items or None, defaultMode) of each source of a volume."""
        if "secret" in volume:
            s = volume["secret"]
            return [("Secret", s["secretName"], s.get("items"))], s.get("defaultMode", 0o644)
        if "configMap" in volume:
            s = volume["configMap"]
            return [("ConfigMap", s["name"], s.get("items"))], s.get("defaultMode", 0o644)
        if "projected" in volume:
            out = []
            for src in volume["projected"]["sources"]:
                for kind, field in (("Secret", "secret"), ("ConfigMap", "configMap")):
                    if field in src:
                        out.append((kind, src[field]["name"], src[field].get("items")))
            return out, volume["projected"].get("defaultMode", 0o644)
        return None, None

    def keys_of(kind, name):
        keys = set(contents.get(f"{kind}/{name}", {}))
        if kind == "ConfigMap":
            keys |= set(configmaps.get(name, {}))
        else:
            keys |= set(secret_keys.get(name, []))
        return sorted(keys)

    def make_dir(path):
        if os.path.isdir(path):
            return
        make_dir(os.path.dirname(path))
        os.mkdir(path)
        os.chown(path, 0, fs_group if fs_group is not None else 0)
        os.chmod(path, 0o2755 if fs_group is not None else 0o755)

    print(f"uid={uid} gid={gid} groups={','.join(str(g) for g in groups)}")
    for mount in c.get("volumeMounts", []):
        volume = volumes.get(mount["name"])
        if volume is None:
            sys.exit(f"kubelet-pod: {workload}/{c['name']} mounts undefined volume {mount['name']}")
        srcs, default_mode = sources(volume)
        if srcs is None:
            continue
        base = os.path.join(root, mount["mountPath"].lstrip("/"))
        files = []
        for kind, name, items in srcs:
            entries = items if items is not None else [{"key": k, "path": k} for k in keys_of(kind, name)]
            for item in entries:
                files.append((item["path"], content(kind, name, item["key"]), item.get("mode", default_mode)))
        sub = mount.get("subPath")
        for path, text, mode in files:
            if sub:
                if path != sub:
                    continue
                target = base
            else:
                target = os.path.join(base, path)
            make_dir(os.path.dirname(target))
            with open(target, "w") as f:
                f.write(text)
            if fs_group is not None:
                mode |= 0o440
            os.chown(target, 0, fs_group if fs_group is not None else 0)
            os.chmod(target, mode)
            print(f"file={target}")


if __name__ == "__main__":
    main()
