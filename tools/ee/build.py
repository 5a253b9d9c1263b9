#!/usr/bin/env python3
"""Build the execution environment on this machine: no registry, no Galaxy (`make ee`).

ansible-builder builds the collection's own ``execution-environment.yml``; only what needs
a registry or Galaxy is replaced, in a derived copy written to ``.lab/ee/``:

1. the base image: ``stateful-nfs-ee-base:bookworm``, built from the lab's Debian image
   (``tools/ee/base.Dockerfile``: python3-pip, this machine's CA bundle, and
   ``ansible-builder-apt`` as the package manager ansible-builder calls);
2. the collections of ``collections/requirements.yml``: tarballs built with
   ``ansible-galaxy collection build`` from what ``make collections`` installed (its
   ``galaxy.yml`` written from the installed ``MANIFEST.json``), installed with ``--offline``;
3. relative paths become absolute (the copy lives elsewhere).

stateful.nfs itself comes in as the definition says (its ``additional_build_files`` and install
step), from a tarball built here: a definition file whose name pattern matches a tarball built
here is taken from ``.lab/ee/collections/``. With registry and Galaxy access the definition
builds as it is (README).
"""
from __future__ import annotations

import argparse
import copy
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
BIN = Path(sys.executable).parent  # the venv's ansible-galaxy and ansible-builder

BASE_IMAGE = "stateful-nfs-ee-base:bookworm"
FROM_IMAGE = "stateful-nfs-lab:bookworm"
# The package manager ansible-builder calls in the base image (tools/ee/ansible-builder-apt).
PACKAGE_MANAGER = "/usr/local/sbin/ansible-builder-apt"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Where the offline requirements' tarballs land in the build context (additional_build_files).
OFFLINE_DEST = "offline_collections"
# MANIFEST.json collection_info keys that galaxy.yml accepts (ansible-galaxy's collection schema).
GALAXY_KEYS = ("namespace", "name", "version", "readme", "authors", "description", "license", "license_file",
               "tags", "dependencies", "repository", "documentation", "homepage", "issues")


class BuildError(Exception):
    """A step failed; the message says which and why."""


def run(argv, timeout, cwd=None, quiet=False):
    """Run argv (a list, no shell); BuildError with its output when it fails or times out."""
    try:
        result = subprocess.run(argv, cwd=cwd, timeout=timeout, check=False, text=True,  # noqa: S603 - argv list, no shell
                                stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None)
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{argv[0]} {argv[1] if len(argv) > 1 else ''} did not finish within {timeout} s") from exc
    if result.returncode != 0:
        tail = ("\n" + result.stdout[-3000:]) if quiet and result.stdout else ""
        raise BuildError(f"`{' '.join(str(a) for a in argv)}` exited {result.returncode}{tail}")
    return result.stdout if quiet else ""


def galaxy_yml_from_manifest(manifest):
    """galaxy.yml content (dict) from an installed collection's MANIFEST.json (dict).

    Both carry the same metadata (MANIFEST.json's ``collection_info``); galaxy.yml takes either
    ``license`` (SPDX list) or ``license_file``, never both, and no empty values.
    """
    info = manifest.get("collection_info")
    if not isinstance(info, dict) or not info.get("namespace") or not info.get("name") or not info.get("version"):
        raise BuildError("MANIFEST.json has no collection_info with namespace, name and version")
    galaxy = {key: info[key] for key in GALAXY_KEYS if info.get(key) not in (None, "", [], {})}
    if galaxy.get("license") and galaxy.get("license_file"):
        del galaxy["license_file"]
    galaxy.setdefault("readme", "README.md")
    galaxy.setdefault("authors", ["unknown"])
    return galaxy


def requirements(path):
    """[(fqcn, version spec)] of a collections requirements file (names, not files or URLs)."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for entry in doc.get("collections") or []:
        if isinstance(entry, str):
            entry = {"name": entry}
        name = entry.get("name", "")
        if entry.get("type", "galaxy") != "galaxy" or name.count(".") != 1:
            raise BuildError(f"{path}: {name!r} is not a Galaxy collection name (namespace.name)")
        out.append((name, str(entry.get("version", "*"))))
    return out


def tar_digest(path):
    """sha256 of a tarball's members (names, types, modes, contents), not of its timestamps."""
    digest = hashlib.sha256()
    with tarfile.open(path) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            digest.update(f"{member.name}\0{member.type!r}\0{member.mode}\0".encode())
            if member.isfile():
                digest.update(tar.extractfile(member).read())
    return digest.hexdigest()


def keep_stable(built, out_dir):
    """Move a freshly built tarball into out_dir, unless one there has the same members.

    ansible-galaxy stamps each build with the time, so an unchanged collection would change the
    build context on every run and cost the image build its cache (pip installs included).
    """
    dest = out_dir / built.name
    if dest.is_file() and tar_digest(dest) == tar_digest(built):
        built.unlink()
    else:
        built.replace(dest)
    return dest


def galaxy_build(src, out_dir):
    """ansible-galaxy collection build of src, placed in out_dir with keep_stable; the tarball's path."""
    with tempfile.TemporaryDirectory(prefix="ee-build-") as tmp:
        run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", tmp, str(src)], timeout=300, quiet=True)
        built = list(Path(tmp).glob("*.tar.gz"))
        if len(built) != 1:
            raise BuildError(f"ansible-galaxy collection build of {src} wrote {len(built)} tarballs")
        return keep_stable(built[0], out_dir)


def collection_tarball(installed, out_dir, fqcn, spec):
    """Build the tarball of an installed collection; BuildError when its version does not meet spec."""
    manifest = json.loads((installed / "MANIFEST.json").read_text(encoding="utf-8"))
    galaxy = galaxy_yml_from_manifest(manifest)
    version = galaxy["version"]
    if f"{galaxy['namespace']}.{galaxy['name']}" != fqcn:
        raise BuildError(f"{installed} holds {galaxy['namespace']}.{galaxy['name']}, expected {fqcn}")
    if not meets_requirements(version, spec):
        raise BuildError(f"{fqcn} {version} in {installed.parent.parent} does not meet {spec!r} (collections/requirements.yml)")
    with tempfile.TemporaryDirectory(prefix="ee-collection-") as tmp:
        src = Path(tmp) / fqcn
        # The build writes its own MANIFEST.json and FILES.json.
        shutil.copytree(installed, src, ignore=shutil.ignore_patterns("MANIFEST.json", "FILES.json", "__pycache__", "*.pyc"))
        (src / "galaxy.yml").write_text(yaml.safe_dump(galaxy, sort_keys=False), encoding="utf-8")
        return galaxy_build(src, out_dir)


def offline_definition(definition, definition_dir, base_image, package_manager, tarballs, own=()):
    """The definition (dict) with a local base image, package manager and offline collections.

    tarballs: the requirements' collections, installed with --offline; own: tarballs built here
    that replace the definition's additional build files whose name pattern they match. Everything
    else is kept as it is; relative paths become absolute against definition_dir, globs expanded.
    """
    if definition.get("version") != 3:
        raise BuildError(f"execution-environment.yml: version {definition.get('version')!r}, this builder knows version 3")
    derived = copy.deepcopy(definition)

    def absolute(value):
        return value if Path(value).is_absolute() else str((definition_dir / value).resolve())

    deps = derived.setdefault("dependencies", {})
    for key in ("python", "system"):
        if isinstance(deps.get(key), str):
            deps[key] = absolute(deps[key])
    deps["galaxy"] = {"collections": [{"name": f"{OFFLINE_DEST}/{t.name}", "type": "file"} for t in tarballs]}
    files = []
    for entry in derived.get("additional_build_files") or []:
        # ansible-builder globs relative sources only: expand them here.
        matches = [str(t) for t in own if fnmatch.fnmatch(t.name, Path(entry["src"]).name)]
        if not matches:
            matches = [entry["src"]] if Path(entry["src"]).is_absolute() else sorted(str(p) for p in definition_dir.glob(entry["src"]))
        if not matches:
            raise BuildError(f"execution-environment.yml: additional_build_files {entry['src']!r} matches no file in {definition_dir}")
        files += [dict(entry, src=match) for match in matches]
    derived["additional_build_files"] = files + [{"src": str(t), "dest": OFFLINE_DEST} for t in tarballs]

    derived.setdefault("images", {})["base_image"] = {"name": base_image}
    options = derived.setdefault("options", {})
    options["package_manager_path"] = package_manager
    if not options.get("skip_pip_install"):
        raise BuildError("execution-environment.yml must set options.skip_pip_install: true "
                         "(ansible-builder's pip bootstrap runs ensurepip, which Debian leaves out)")
    derived.setdefault("build_arg_defaults", {})["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] = "--offline"
    return derived


def image_size(image):
    out = run([DOCKER, "image", "inspect", "--format", "{{.Size}}", image], timeout=60, quiet=True)
    return int(out.strip())


def build_base(work, from_image, tag, no_cache):
    context = work / "base"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    for name in ("base.Dockerfile", "ansible-builder-apt"):
        shutil.copy2(HERE / name, context / name)
    shutil.copyfile(CA_BUNDLE, context / "site-ca.crt")
    argv = [DOCKER, "build", "--quiet", "-f", str(context / "base.Dockerfile"), "--build-arg", f"FROM_IMAGE={from_image}", "-t", tag]
    run(argv + (["--no-cache"] if no_cache else []) + [str(context)], timeout=900, quiet=True)


def smoke_check(image):
    """What an AWX job needs from the image, read from inside it; BuildError when something is missing."""
    checks = {
        "ansible-runner --version": ["ansible-runner", "--version"],
        "ansible --version": ["ansible", "--version"],
        "ansible-galaxy collection list": ["ansible-galaxy", "collection", "list", "--format", "json"],
        "ansible-doc stateful.nfs.statefulset": ["ansible-doc", "stateful.nfs.statefulset"],
        "python-kubernetes": ["python3", "-c", "import kubernetes, dns; print('kubernetes', kubernetes.__version__)"],
        "nfs-ls (libnfs-utils)": ["sh", "-c", "command -v nfs-ls nfs-cat nfs-cp"],
    }
    out = {}
    for label, argv in checks.items():
        # Through the image's entrypoint, as AWX runs it (it gives uid 1000 a passwd entry and HOME).
        out[label] = run([DOCKER, "run", "--rm", "-e", "ANSIBLE_NOCOLOR=1", image, *argv], timeout=120, quiet=True)
    listed = json.loads(out["ansible-galaxy collection list"])
    found = {name for path in listed.values() for name in path if not name.startswith("ansible._")}  # core's internal ones
    wanted = {"stateful.nfs"} | {name for name, _spec in requirements(REPO / "collections" / "requirements.yml")}
    if not wanted <= found:
        raise BuildError(f"collections missing in {image}: {', '.join(sorted(wanted - found))}")
    return out, sorted(found)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--definition", type=Path, default=REPO / "execution-environment.yml")
    parser.add_argument("--tag", default=None, help="image tag (default stateful-nfs-ee:<galaxy.yml version>)")
    parser.add_argument("--from-image", default=FROM_IMAGE, help="image the base is built from (a Debian 12 or later)")
    parser.add_argument("--base-image", default=BASE_IMAGE, help="tag of the base image built here")
    parser.add_argument("--work-dir", type=Path, default=REPO / ".lab" / "ee")
    parser.add_argument("--no-cache", action="store_true", help="build every layer again (a fresh-state build)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds for the ansible-builder build")
    args = parser.parse_args()

    start = time.monotonic()
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
    tag = args.tag or f"stateful-nfs-ee:{galaxy['version']}"
    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        if run([DOCKER, "image", "ls", "-q", args.from_image], timeout=60, quiet=True).strip() == "":
            raise BuildError(f"image {args.from_image} not found (make images builds it)")
        t0 = time.monotonic()
        build_base(work, args.from_image, args.base_image, args.no_cache)
        print(f"ee: base image {args.base_image} from {args.from_image} ({time.monotonic() - t0:.0f} s)", flush=True)

        offline = work / "collections"
        offline.mkdir(exist_ok=True)
        # This collection, for the definition's own install step (build/stateful-nfs-*.tar.gz there).
        own = [galaxy_build(REPO, offline)]
        installed_root = REPO / ".collections" / "ansible_collections"
        tarballs = []
        for fqcn, spec in requirements(REPO / "collections" / "requirements.yml"):
            installed = installed_root / fqcn.replace(".", "/")
            if not (installed / "MANIFEST.json").is_file():
                raise BuildError(f"{fqcn} is not installed in {installed_root} (make collections)")
            tarballs.append(collection_tarball(installed, offline, fqcn, spec))
        for stale in set(offline.glob("*.tar.gz")) - set(own + tarballs):
            stale.unlink()
        print("ee: collection tarballs " + ", ".join(t.name for t in own + tarballs), flush=True)

        definition = yaml.safe_load(args.definition.read_text(encoding="utf-8"))
        derived = offline_definition(definition, args.definition.resolve().parent, args.base_image, PACKAGE_MANAGER, tarballs, own)
        derived_path = work / "execution-environment.yml"
        derived_path.write_text("# Derived by tools/ee/build.py from " + str(args.definition) + "; do not edit.\n"
                                + yaml.safe_dump(derived, sort_keys=False), encoding="utf-8")

        t0 = time.monotonic()
        argv = [str(BIN / "ansible-builder"), "build", "-f", str(derived_path), "--context", str(work / "context"),
                "--container-runtime", "docker", "-t", tag, "-v", "2"]
        run(argv + (["--no-cache"] if args.no_cache else []), timeout=args.timeout)
        print(f"ee: ansible-builder build {tag} ({time.monotonic() - t0:.0f} s)", flush=True)

        out, found = smoke_check(tag)
    except BuildError as exc:
        print(f"ee: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"ee: inside the image: {out['ansible --version'].splitlines()[0]}; ansible-runner {out['ansible-runner --version'].strip()}; "
          f"{out['python-kubernetes'].strip()}")
    print(f"ee: collections {', '.join(found)}")
    print("ee: ansible-doc stateful.nfs.statefulset: " + out["ansible-doc stateful.nfs.statefulset"].splitlines()[0])
    print(f"== ee: {tag}, {image_size(tag) / 1e6:.0f} MB, {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
