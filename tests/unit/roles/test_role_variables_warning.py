"""Every role warns about a mistyped variable with its prefix (action stateful.nfs.role_variables),
run by the real ansible-playbook on localhost. Only the tasks tagged ``always`` run (``--tags``
names no task): the role's argument validation and the check itself, which is each role's first
task. No host is changed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLAY = """- name: A role with a mistyped variable
  hosts: localhost
  gather_facts: false
  roles:
    - role: stateful.nfs.{role}
"""


@pytest.mark.parametrize("role, typo, closest", [
    ("statefulset", "statefulset_aplications", "statefulset_applications"),
    ("nfs_provisioner", "nfs_provisioner_clases", "nfs_provisioner_classes"),
    ("k8s_statefulset_nginx", "k8s_statefulset_nginx_replica", "k8s_statefulset_nginx_replicas"),
])
def test_a_mistyped_variable_is_warned_with_the_closest_name(tmp_path, role, typo, closest):
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(role=role))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0")
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           str(play), "--tags", "no_task_has_this_tag", "-e", f"{typo}=1"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    output = done.stdout + done.stderr
    # k8s_statefulset_nginx's validation (tagged always too) then stops: no NFS server here.
    assert done.returncode == (2 if role == "k8s_statefulset_nginx" else 0), output[-3000:]
    assert f"{typo} is not a variable of role stateful.nfs.{role}, which ignores it; did you mean {closest}?" in \
        " ".join(output.split()), output[-3000:]


def test_the_walkthrough_role_says_once_that_it_is_deprecated(tmp_path):
    """k8s_statefulset_nginx (a thin role over nfs_provisioner and statefulset since 0.4) warns once per run, on a
    host list of two, naming the roles to use and the version that removes it; its preflight entry point
    (site.yml runs it before main) does not warn."""
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(role="k8s_statefulset_nginx").replace("hosts: localhost", "hosts: all"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0")
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "h1,h2,", "-c", "local",
                           str(play), "--tags", "no_task_has_this_tag"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    output = " ".join((done.stdout + done.stderr).split())
    said = "[DEPRECATION WARNING]: Role stateful.nfs.k8s_statefulset_nginx is deprecated"
    assert output.count(said) == 1, output[-3000:]
    assert "statefulset_applications (role stateful.nfs.statefulset)" in output
    assert "version 1.0.0" in output
    preflight = (REPO / "roles/k8s_statefulset_nginx/tasks/preflight.yml").read_text()
    assert "deprecated:" not in preflight and "role_variables" not in preflight
