"""The execution environment tooling (tools/ee/): the offline build's derivation of the collection's
own execution-environment.yml, and the AWX job emulation (survey defaults, credential injection,
kubeconfig checks, results). `make ee` and `make ee-test` run them for real (README, "AWX")."""
from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"ee_{name}", ROOT / "tools" / "ee" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load("build")
job = _load("job")
DEFINITION = yaml.safe_load((ROOT / "execution-environment.yml").read_text())


# ------------------------------------------------------------------------------ build

def test_galaxy_yml_from_a_manifest():
    manifest = {"collection_info": {
        "namespace": "ansible", "name": "posix", "version": "2.1.0", "authors": ["Ansible"], "readme": "README.md",
        "license": [], "license_file": "COPYING", "tags": ["posix"], "dependencies": {}, "repository": "https://x",
        "description": "POSIX.", "documentation": None}}
    galaxy = build.galaxy_yml_from_manifest(manifest)
    assert galaxy == {"namespace": "ansible", "name": "posix", "version": "2.1.0", "readme": "README.md", "authors": ["Ansible"],
                      "description": "POSIX.", "license_file": "COPYING", "tags": ["posix"], "repository": "https://x"}


def test_galaxy_yml_takes_license_over_license_file():
    info = {"namespace": "a", "name": "b", "version": "1.0.0", "license": ["GPL-3.0-or-later"], "license_file": "COPYING"}
    galaxy = build.galaxy_yml_from_manifest({"collection_info": info})
    assert galaxy["license"] == ["GPL-3.0-or-later"] and "license_file" not in galaxy


def test_galaxy_yml_from_a_broken_manifest_fails():
    with pytest.raises(build.BuildError, match="collection_info"):
        build.galaxy_yml_from_manifest({"collection_info": {"namespace": "a", "name": "b"}})


def test_requirements_of_the_collection():
    reqs = dict(build.requirements(ROOT / "collections" / "requirements.yml"))
    assert set(reqs) == {"kubernetes.core", "ansible.posix", "awx.awx"}
    assert reqs["awx.awx"] == "24.6.1"


def test_requirements_must_be_galaxy_names(tmp_path):
    path = tmp_path / "requirements.yml"
    path.write_text("collections:\n  - name: ./some.tar.gz\n    type: file\n")
    with pytest.raises(build.BuildError, match="not a Galaxy collection name"):
        build.requirements(path)


def test_the_definition_still_builds_on_the_upstream_base():
    """Users with a registry build the definition as it is: upstream base, dnf, Galaxy requirements."""
    assert DEFINITION["images"]["base_image"]["name"].startswith("quay.io/ansible/awx-ee:")
    assert DEFINITION["options"]["package_manager_path"] == "/usr/bin/dnf"
    assert DEFINITION["dependencies"]["galaxy"] == "collections/requirements.yml"
    assert DEFINITION["options"]["skip_pip_install"] is True


def test_the_definition_is_tagged_with_the_collection_version():
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert DEFINITION["options"]["tags"] == [f"stateful-nfs-ee:{version}"]


def test_offline_definition(tmp_path):
    own = tmp_path / "stateful-nfs-9.9.9.tar.gz"
    deps = [tmp_path / "kubernetes-core-6.2.0.tar.gz", tmp_path / "ansible-posix-2.1.0.tar.gz"]
    derived = build.offline_definition(DEFINITION, ROOT, "base:local", "/usr/local/sbin/ansible-builder-apt", deps, [own])
    assert derived["images"]["base_image"] == {"name": "base:local"}
    assert derived["options"]["package_manager_path"] == "/usr/local/sbin/ansible-builder-apt"
    assert derived["build_arg_defaults"]["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] == "--offline"
    assert derived["dependencies"]["galaxy"] == {"collections": [
        {"name": "offline_collections/kubernetes-core-6.2.0.tar.gz", "type": "file"},
        {"name": "offline_collections/ansible-posix-2.1.0.tar.gz", "type": "file"}]}
    # dependency files absolute, and existing
    for key in ("python", "system"):
        assert Path(derived["dependencies"][key]).is_absolute() and Path(derived["dependencies"][key]).is_file()
    # the definition's own tarball entry takes the one built here; the dependencies are added
    assert derived["additional_build_files"] == [{"src": str(own), "dest": "stateful_nfs"}] + [
        {"src": str(t), "dest": "offline_collections"} for t in deps]
    # what ansible-builder installs and runs is the definition's
    for key in ("additional_build_steps", "version"):
        assert derived[key] == DEFINITION[key]
    assert derived["dependencies"]["ansible_core"] == DEFINITION["dependencies"]["ansible_core"]
    assert DEFINITION["images"]["base_image"]["name"].startswith("quay.io/")  # the input is not modified


def test_offline_definition_refuses_a_missing_build_file(tmp_path):
    with pytest.raises(build.BuildError, match="matches no file"):
        build.offline_definition(DEFINITION, tmp_path, "b", "/p", [], [])


def test_offline_definition_needs_skip_pip_install():
    definition = dict(DEFINITION, options={"package_manager_path": "/usr/bin/dnf"})
    with pytest.raises(build.BuildError, match="skip_pip_install"):
        build.offline_definition(definition, ROOT, "b", "/p", [], [ROOT / "stateful-nfs-1.0.0.tar.gz"])


# -------------------------------------------------------------------------------- job

SURVEY = {"spec": [
    {"variable": "t", "type": "text", "default": "web", "required": False},
    {"variable": "empty", "type": "text", "default": "", "required": False},
    {"variable": "n", "type": "integer", "default": 3, "required": False},
    {"variable": "n_bad", "type": "integer", "default": "3", "required": False},
    {"variable": "b", "type": "multiplechoice", "choices": ["true", "false"], "default": "false", "required": False},
    {"variable": "b_bad", "type": "multiplechoice", "choices": ["true", "false"], "default": "maybe", "required": False},
    {"variable": "m", "type": "multiselect", "choices": "a\nb\nc", "default": "a\nc", "required": False},
    {"variable": "none", "type": "text", "required": True},
    {"variable": "p", "type": "password", "default": "$encrypted$abc", "required": False},
]}


def test_survey_defaults_as_awx_sends_them():
    assert job.survey_defaults(SURVEY) == {"t": "web", "empty": "", "n": 3, "b": "false", "m": ["a", "c"]}


def test_survey_defaults_of_the_generated_verify_survey(tmp_path):
    from ansible_collections.stateful.nfs.plugins.filter.argspec_to_survey import argspec_to_survey

    templates = job.load_templates()
    template = job.pick_template(templates, "playbooks/verify.yml")
    docs = {s["path"]: yaml.safe_load((ROOT / s["path"]).read_text()) for s in template["sources"]}
    survey = argspec_to_survey(docs, sources=template["sources"], prefixes=templates["awx_survey_prefixes"])
    defaults = job.survey_defaults(survey)
    assert defaults["verify_pod_restart"] == "false" and defaults["verify_pod_restart_ordinal"] == 0
    assert defaults["k8s_statefulset_nginx_name"] == "web"
    assert set(defaults) == {q["variable"] for q in survey["spec"] if "default" in q}


def test_pick_template():
    templates = job.load_templates()
    assert job.pick_template(templates, "playbooks/verify.yml")["name"] == "stateful.nfs verify"
    assert job.pick_template(templates, "x.yml", "stateful.nfs site")["playbook"] == "site.yml"
    with pytest.raises(job.JobError, match="no job template"):
        job.pick_template(templates, "x.yml")


def test_kubeconfig_credential_injected_as_the_credential_type_says(tmp_path):
    credential_type = job.load_templates()["awx_kubeconfig_credential_type"]
    env, written = job.inject_credential(credential_type, {"kubeconfig": "apiVersion: v1\n"}, tmp_path)
    assert len(written) == 1 and written[0].parent == tmp_path
    assert written[0].read_text() == "apiVersion: v1\n"
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600
    assert env == {"K8S_AUTH_KUBECONFIG": f"/runner/env/{written[0].name}"}


def test_credential_without_its_required_input_fails(tmp_path):
    credential_type = job.load_templates()["awx_kubeconfig_credential_type"]
    with pytest.raises(job.JobError, match="missing input"):
        job.inject_credential(credential_type, {"kubeconfig": ""}, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_single_file_injector_is_tower_filename(tmp_path):
    credential_type = {"name": "t", "inputs": {"fields": [{"id": "v"}]},
                       "injectors": {"file": {"template": "{{ v }}"}, "env": {"F": "{{ tower.filename }}", "V": "x{{ v }}"}}}
    env, written = job.inject_credential(credential_type, {"v": "1"}, tmp_path)
    assert env == {"F": f"/runner/env/{written[0].name}", "V": "x1"}


def _kubeconfig(cluster, user=None, current="c"):
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": current,
                           "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
                           "clusters": [{"name": "k", "cluster": cluster}], "users": [{"name": "u", "user": user or {"token": "t"}}]})


def test_kubeconfig_server():
    assert job.kubeconfig_server(_kubeconfig({"server": "https://lab-cp:6443"}), "k") == ("lab-cp", 6443, "https://lab-cp:6443")
    assert job.kubeconfig_server(_kubeconfig({"server": "http://10.0.0.1"}), "k")[:2] == ("10.0.0.1", 80)


@pytest.mark.parametrize("text, message", [
    (_kubeconfig({"server": "https://a:6443", "certificate-authority": "/etc/ca.crt"}), "kubectl config view --flatten"),
    (_kubeconfig({"server": "https://a:6443"}, {"client-certificate": "/c.crt", "client-key": "/c.key"}), "client-certificate, client-key"),
    (_kubeconfig({"server": "https://a:6443"}, current="other"), "current-context 'other'"),
    (_kubeconfig({"server": "a:6443"}), "no http"),
    ("- a list", "not a kubeconfig"),
])
def test_kubeconfig_that_cannot_be_a_credential(text, message):
    with pytest.raises(job.JobError, match=message):
        job.kubeconfig_server(text, "kubeconfig")


def test_parse_extra_vars(tmp_path):
    (tmp_path / "vars.yml").write_text("a: 1\nb: [x]\n")
    assert job.parse_extra_vars(["k=v", f"@{tmp_path / 'vars.yml'}", "{c: true}"]) == {"k": "v", "a": 1, "b": ["x"], "c": True}
    with pytest.raises(job.JobError, match="key=value"):
        job.parse_extra_vars(["novalue"])


def test_job_env_paths_as_awx_builds_them(tmp_path):
    (tmp_path / "ansible.cfg").write_text("[defaults]\ncollections_path = .collections\nroles_path = roles\n")
    env = job.job_env(7, tmp_path, "abc")
    assert env["ANSIBLE_COLLECTIONS_PATH"] == "/runner/requirements_collections:.collections:~/.ansible/collections:/usr/share/ansible/collections"
    assert env["ANSIBLE_ROLES_PATH"].startswith("/runner/requirements_roles:roles:")
    assert env["JOB_ID"] == "7" and env["PROJECT_REVISION"] == "abc"


def test_stats_from_the_job_events(tmp_path):
    events = tmp_path / "job_events"
    events.mkdir()
    (events / "1-a.json").write_text(json.dumps({"event": "playbook_on_start"}))
    (events / "9-b.json").write_text(json.dumps({"event": "playbook_on_stats", "event_data": {
        "ok": {"localhost": 7, "node": 2}, "changed": {"localhost": 1}, "failures": {}, "dark": {"node": 0}}}))
    assert job.stats(tmp_path) == {
        "localhost": {"ok": 7, "changed": 1, "failures": 0, "dark": 0, "skipped": 0, "rescued": 0, "ignored": 0},
        "node": {"ok": 2, "changed": 0, "failures": 0, "dark": 0, "skipped": 0, "rescued": 0, "ignored": 0}}
    assert job.stats(tmp_path / "missing") == {}


def _tarball(path, content, mtime):
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("ns/MANIFEST.json")
        info.size, info.mtime = len(content), mtime
        tar.addfile(info, io.BytesIO(content))
    return path


def test_a_rebuilt_tarball_with_the_same_members_is_not_replaced(tmp_path):
    """ansible-galaxy stamps every build with the time: an unchanged collection keeps its bytes (build cache)."""
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    out.mkdir()
    fresh.mkdir()
    kept = _tarball(out / "a-b-1.0.0.tar.gz", b"{}", 1)
    before = kept.read_bytes()
    assert build.keep_stable(_tarball(fresh / "a-b-1.0.0.tar.gz", b"{}", 2), out) == kept
    assert kept.read_bytes() == before and not (fresh / "a-b-1.0.0.tar.gz").exists()
    build.keep_stable(_tarball(fresh / "a-b-1.0.0.tar.gz", b"{ }", 2), out)
    assert kept.read_bytes() != before
