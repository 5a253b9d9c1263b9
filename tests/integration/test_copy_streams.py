"""stateful.nfs.nfs_dir_copy streams (issue 22, point 4): on the lab's NFS server, the module copies a
directory holding a file of BIG_MB under an address-space limit of LIMIT_MB (well below the file's
size) imposed on the module's own process - its interpreter is a script of the test that runs
``prlimit --as=BYTES python3`` (ansible-core takes no arguments in an interpreter). In the
same play, under the same interpreter, ansible.builtin.slurp (which holds the whole file in memory)
fails with MemoryError: the limit bites, so a copy that read the file whole would fail too. The copy
succeeds, the file's sha256 in the copy and in its manifest is the source's, and /proc/self/limits of
a module run shows the limit. Everything is removed afterwards. Wall time on the lab: about 5 s."""
from __future__ import annotations

import base64
import json

import pytest

from tests.support.lab import NFS_HOST, dexec

BIG_MB = 160  # the file to copy
LIMIT_MB = 64  # the copy's address space: Python and the module fit; the file does not
PLAY = """
- name: Copy a file larger than the copy's memory limit
  hosts: nfs_server
  gather_facts: false
  vars:
    ansible_python_interpreter: "{python}"
  tasks:
    - name: Read the module process's limits
      ansible.builtin.slurp:
        src: /proc/self/limits
      register: limits

    - name: Read the file whole under the same limit (slurp holds it in memory)
      ansible.builtin.slurp:
        src: "{src}/big.bin"
      register: whole
      ignore_errors: true

    - name: Copy the directory, streamed
      stateful.nfs.nfs_dir_copy:
        src: "{src}"
        dest: "{dest}"
        timeout: 60
      register: copied
"""


@pytest.fixture
def area(lab):
    """The test's directory on the NFS server: src/ with the big file; removed afterwards, whatever happened."""
    root = lab.nfs_dir("copy-streams")
    yield root
    dexec(NFS_HOST, "rm", "-rf", root)


def test_copy_streams_a_file_larger_than_its_memory_limit(lab, area, player, tmp_path, monkeypatch):
    monkeypatch.setenv("ANSIBLE_DISPLAY_TRACEBACK", "error")  # the failed read's traceback names MemoryError
    src, dest, python, limit = f"{area}/src", f"{area}/copy", f"{area}/python3-limited", LIMIT_MB << 20
    dexec(NFS_HOST, "sh", "-c", f"mkdir -p {src} && head -c {BIG_MB}M /dev/urandom > {src}/big.bin", timeout=60)
    wrapper = f'#!/bin/sh\nexec prlimit --as={limit} /usr/bin/python3 "$@"\n'
    dexec(NFS_HOST, "sh", "-c", f"cat > {python} && chmod 0755 {python}", data=wrapper.encode())
    sha = dexec(NFS_HOST, "sha256sum", f"{src}/big.bin", timeout=60).stdout.split()[0]
    playbook = tmp_path / "copy.yml"
    playbook.write_text(PLAY.format(python=python, src=src, dest=dest))

    run = player.play(str(playbook))
    assert run.rc == 0, run.failure()
    limits = base64.b64decode(run.results("Read the module process's limits")[NFS_HOST]["content"]).decode()
    address_space = next(line for line in limits.splitlines() if line.startswith("Max address space"))
    assert address_space.split()[3:5] == [str(limit), str(limit)], address_space
    whole = run.results("Read the file whole under the same limit (slurp holds it in memory)")[NFS_HOST]
    assert whole.get("failed") and "MemoryError" in json.dumps(whole), {k: v for k, v in whole.items() if k != "content"}
    copied = run.results("Copy the directory, streamed")[NFS_HOST]
    assert copied["changed"] and copied["copied"], copied
    assert dexec(NFS_HOST, "sha256sum", f"{dest}/big.bin", timeout=60).stdout.split()[0] == sha
    manifest = json.loads(dexec(NFS_HOST, "cat", f"{dest}.manifest.json").stdout)
    assert manifest["checksums"] == {"big.bin": sha} and manifest["bytes"] == BIG_MB << 20, manifest
