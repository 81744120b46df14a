#!/usr/bin/env python3
"""Prints the bill of materials of the baton-zitadel binary as CycloneDX 1.5 JSON.

Usage: tools/sbom.py [TARGET]   (default x86_64-unknown-linux-gnu; run from anywhere)

The components are the crates `cargo tree -e normal --target TARGET` shows under the
package: what `cargo metadata` resolves for that target, following normal dependencies only,
so dev-dependencies (the fake ZITADEL, the tests' rustls features) and build dependencies
(`cc`, which compiles ring's C and assembly) are left out. A procedural macro, and a crate
only a procedural macro uses, runs inside the compiler and is not linked into the binary:
it is listed with the scope "excluded", as CycloneDX says for a component not used at run
time. Each crate carries its version, `pkg:cargo` purl, licence (from its manifest, through
`cargo metadata`) and the SHA-256 of its `.crate` file (from `Cargo.lock`).
"""

import hashlib
import json
import os
import subprocess
import sys
import tomllib
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "baton-zitadel"


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "x86_64-unknown-linux-gnu"
    cargo = os.environ.get("CARGO", "cargo")
    metadata = json.loads(subprocess.run(
        [cargo, "metadata", "--format-version", "1", "--locked", "--filter-platform", target],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    lock_bytes = (ROOT / "Cargo.lock").read_bytes()
    checksums = {(p["name"], p["version"]): p.get("checksum")
                 for p in tomllib.loads(lock_bytes.decode())["package"]}
    json.dump(bom(metadata, checksums, lock_bytes), sys.stdout, indent=2)
    sys.stdout.write("\n")


def bom(metadata, checksums, lock_bytes):
    packages = {p["id"]: p for p in metadata["packages"]}
    deps = {node["id"]: [d["pkg"] for d in node["deps"] if is_normal(d)]
            for node in metadata["resolve"]["nodes"]}
    root = next(p["id"] for p in metadata["packages"] if p["name"] == PACKAGE)
    is_macro = lambda id: any("proc-macro" in t["kind"] for t in packages[id]["targets"])
    # Everything `cargo tree -e normal` shows, and what of it the binary links.
    compiled = reachable(root, deps, lambda id: True) - {root}
    linked = reachable(root, deps, lambda id: not is_macro(id)) - {root}

    components = []
    for id in sorted(compiled, key=lambda id: (packages[id]["name"], packages[id]["version"])):
        p = packages[id]
        component = describe(p, "library")
        checksum = checksums.get((p["name"], p["version"]))
        if checksum:
            component["hashes"] = [{"alg": "SHA-256", "content": checksum}]
        if id in linked:
            component["scope"] = "required"
        else:
            component["scope"] = "excluded"
            component["description"] = (
                "build time only: a procedural macro, or a crate only procedural macros use, "
                "run by the compiler and not linked into the binary")
        components.append(component)

    purl = lambda id: describe(packages[id], "")["purl"]
    dependencies = [{"ref": purl(id), "dependsOn": sorted(purl(d) for d in deps[id])}
                    for id in [root] + sorted(compiled, key=purl)]
    main = describe(packages[root], "application")
    name = f"{main['name']}@{main['version']}"
    digest = hashlib.sha256(lock_bytes).hexdigest()
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        # The same sources give the same document: the serial number is derived from them.
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{name}#{digest}')}",
        "version": 1,
        "metadata": {
            "timestamp": timestamp(),
            "tools": {"components": [{"type": "application", "name": "tools/sbom.py"}]},
            "component": main,
        },
        "components": components,
        "dependencies": dependencies,
    }


def is_normal(dep):
    """A dependency the crate's own code uses: not a build script's, not the tests'."""
    return any(kind["kind"] is None for kind in dep["dep_kinds"])


def reachable(start, deps, enter):
    """The ids reachable from `start`, descending only into those `enter` accepts."""
    seen, todo = {start}, [start]
    while todo:
        for dep in deps[todo.pop()]:
            if dep not in seen and enter(dep):
                seen.add(dep)
                todo.append(dep)
    return seen


def describe(package, kind):
    name, version = package["name"], package["version"]
    purl = f"pkg:cargo/{name}@{version}"
    component = {"type": kind, "bom-ref": purl, "name": name, "version": version, "purl": purl}
    if package.get("license"):
        # Old manifests separate alternatives with `/`; SPDX says OR.
        expression = " OR ".join(part.strip() for part in package["license"].split("/"))
        component["licenses"] = [{"expression": expression}]
    elif package.get("license_file"):
        component["licenses"] = [{"license": {"name": f"see {package['license_file']}"}}]
    return component


def timestamp():
    """When the sources were last changed (SOURCE_DATE_EPOCH, as reproducible builds set it)."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or None
    moment = datetime.fromtimestamp(epoch, timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()
