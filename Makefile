# stateful.nfs: build and test entry points (GNU make, root on Debian 12).
#
#   make demo       deps + images + lab-up, then `ansible-playbook site.yml -i tests/lab/inventory`
#   make test       deps + images, then unit, lint, sanity, build, the lab, its suites and every
#                   molecule scenario in two streams, the second on a second lab (total at the end)
#   make deps       apt packages, dockerd, .venv, .venv-faultproxy, collections (each skipped when done)
#   make images     the lab's images: Debian hosts, Kubernetes nodes and the pods' images, with
#                   Kubernetes, etcd, CoreDNS and the provisioner built from their pinned sources
#                   (first build: about 10 minutes on an idle 2-core machine; cached in /var/cache/stateful-nfs-lab)
#   make lab-up     the lab: an NFS server, a Kubernetes control plane and 3 nodes, all Ready
#   make lab-status what the lab consists of right now
#   make lab-down   removes what lab-up made (containers, network, volumes, PKI)
#   make unit | lint | sanity | build | molecule [SCENARIOS="a b"]
#   make cluster-test  the module suites against the lab (integration, bad input, security, smoke)
#   make collections   the dependency collections into .collections (from the ansible wheel)
#   make bench      benchmark on real Kubernetes labs of its own -> results/bench/results.{md,png} (BENCH_RUNS=3)
#   make ee         execution environment stateful-nfs-ee:<version>, no registry, no Galaxy (EE_NO_CACHE=1)
#   make ee-test    jobs in it as AWX runs them, against the lab (its credential, survey, site.yml, verify.yml)
#   make ee-job     a job in it against the lab (EE_JOB_INVENTORY, EE_JOB_KUBECONFIG, EE_JOB_NETWORK, EE_JOB_PLAYBOOK)
#
# Every target is idempotent and safe to re-run. Generated: .lab/ (lab state, logs), .venv*,
# .collections/, results/ (reports), and the build caches in /var/cache/stateful-nfs-lab.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Targets run one after the other, in the order given, even under -j.
.NOTPARALLEL:

export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_PIPELINING := True
export ANSIBLE_FORCE_COLOR := 0
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_HOST_KEY_CHECKING := False
export PY_COLORS := 0
export NO_COLOR := 1
export MOLECULE_NO_LOG := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive
export PYTHONDONTWRITEBYTECODE := 1

VENV        := $(CURDIR)/.venv
# mitmproxy for the cluster tests' fault proxy: pins of its own (they conflict with ansible-lint's).
FAULTPROXY_VENV := $(CURDIR)/.venv-faultproxy
LAB         := $(CURDIR)/.lab
DOCKER      := /usr/bin/docker
APT_PACKAGES := docker.io debootstrap python3 python3-venv libnfs-utils make git rsync \
                iproute2 procps ca-certificates tar util-linux gcc libc6-dev
# The kernel-NFS VMs of molecule/nfs_kernel_vm (tests/lab/vm/): qemu with software emulation,
# overlays, SSH, mkfs.ext4 -d. Installed without recommends (qemu's GUI, firmware, samba).
VM_APT_PACKAGES := qemu-system-x86 qemu-utils openssh-client e2fsprogs
# Bounds (seconds).
APT_TIMEOUT      ?= 1200
DOCKERD_TIMEOUT  ?= 60
PIP_TIMEOUT      ?= 1200
UNIT_TIMEOUT     ?= 1800
LINT_TIMEOUT     ?= 1200
SANITY_TIMEOUT   ?= 1800
MOLECULE_TIMEOUT ?= 1800
DEMO_TIMEOUT     ?= 3600
# `make molecule SCENARIOS="nfs_server lab_smoke"` runs a subset.
SCENARIOS ?= $(sort $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))

.PHONY: help deps deps-apt deps-docker venv faultproxy collections images lab-up lab-down lab-status \
        demo unit lint sanity build cluster-test molecule lab-scenario-queue test-second-stream test bench ee ee-test ee-job

help:
	@sed -n '2,17p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

# --------------------------------------------------------------------------- deps
deps: deps-apt deps-docker venv faultproxy collections

deps-apt:
	@missing=""; missing_vm=""; \
	installed() { [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$1" 2>/dev/null)" = installed ]; }; \
	for p in $(APT_PACKAGES); do installed "$$p" || missing="$$missing $$p"; done; \
	for p in $(VM_APT_PACKAGES); do installed "$$p" || missing_vm="$$missing_vm $$p"; done; \
	if [ -z "$$missing$$missing_vm" ]; then echo "deps: apt packages present"; exit 0; fi; \
	echo "deps: installing$$missing$$missing_vm"; \
	timeout $(APT_TIMEOUT) apt-get update -q; \
	[ -z "$$missing" ] || timeout $(APT_TIMEOUT) apt-get install -y -q $$missing; \
	[ -z "$$missing_vm" ] || timeout $(APT_TIMEOUT) apt-get install -y -q --no-install-recommends $$missing_vm

deps-docker: deps-apt
	@if $(DOCKER) info >/dev/null 2>&1; then echo "deps: dockerd is running"; exit 0; fi; \
	mkdir -p $(LAB); \
	if [ -d /run/systemd/system ] && timeout $(DOCKERD_TIMEOUT) systemctl start docker.service 2>/dev/null \
	   && $(DOCKER) info >/dev/null 2>&1; then echo "deps: dockerd started (systemd)"; exit 0; fi; \
	echo "deps: starting dockerd in the background (log $(LAB)/dockerd.log)"; \
	setsid /usr/sbin/dockerd </dev/null >>$(LAB)/dockerd.log 2>&1 & echo $$! >$(LAB)/dockerd.pid; \
	for i in $$(seq 1 $$(( $(DOCKERD_TIMEOUT) * 2 ))); do \
	  $(DOCKER) info >/dev/null 2>&1 && { echo "deps: dockerd ready after $$(( i / 2 )) s"; exit 0; }; \
	  sleep 0.5; \
	done; \
	tail -n 20 $(LAB)/dockerd.log >&2; echo "deps: dockerd not ready within $(DOCKERD_TIMEOUT) s" >&2; exit 1

venv: $(VENV)/.requirements.stamp

# Rebuilt when requirements.txt is newer than the stamp.
$(VENV)/.requirements.stamp: requirements.txt | deps-apt
	@[ -x $(VENV)/bin/python ] || { echo "deps: creating $(VENV)"; python3 -m venv $(VENV); }
	@echo "deps: pip install -r requirements.txt"
	@timeout $(PIP_TIMEOUT) $(VENV)/bin/python -m pip install -q -r requirements.txt
	@touch $@

faultproxy: $(FAULTPROXY_VENV)/.requirements.stamp

$(FAULTPROXY_VENV)/.requirements.stamp: requirements-faultproxy.txt | deps-apt
	@[ -x $(FAULTPROXY_VENV)/bin/python ] || { echo "deps: creating $(FAULTPROXY_VENV)"; python3 -m venv $(FAULTPROXY_VENV); }
	@echo "deps: pip install -r requirements-faultproxy.txt"
	@timeout $(PIP_TIMEOUT) $(FAULTPROXY_VENV)/bin/python -m pip install -q -r requirements-faultproxy.txt
	@touch $@

collections: venv
	@timeout 600 $(VENV)/bin/python tools/install_collections.py

# ------------------------------------------------------------------------- images
# The Debian host images, then the Kubernetes programs (Go, from the pins in tests/lab/src/)
# and the node and pod images; each step keeps what is current.
images: deps-docker venv
	@start=$$(date +%s); tests/lab/build-images.sh; tests/lab/build-k8s-images.sh; \
	echo "== images: $$(( $$(date +%s) - start )) s"

# ---------------------------------------------------------------------------- lab
LAB_INVENTORY := $(CURDIR)/tests/lab/inventory
lab-up: deps images
	@start=$$(date +%s); tests/lab/lab-up.sh; tests/lab/lab-status.sh; \
	echo "== lab-up: $$(( $$(date +%s) - start )) s"

lab-status:
	@tests/lab/lab-status.sh

# LAB_SELECTOR=io.stateful-nfs.lab=1 widens it to every lab-labelled leftover.
lab-down:
	@start=$$(date +%s); tests/lab/lab-down.sh; echo "== lab-down: $$(( $$(date +%s) - start )) s"

# --------------------------------------------------------------------------- demo
demo:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory deps images lab-up; \
	play=$$(date +%s); rc=0; \
	timeout $(DEMO_TIMEOUT) ansible-playbook site.yml -i $(LAB_INVENTORY) || rc=$$?; \
	end=$$(date +%s); \
	echo; echo "inventory: $(LAB_INVENTORY)   kubeconfig: $(LAB)/kubeconfig   logs: $(LAB)/logs"; \
	for r in $(LAB)/report/*-identity.md; do [ -f "$$r" ] || continue; \
	  echo; echo "== demo: identity table, read from the cluster ($$r)"; \
	  sed -n '/^# Application/p; /^## Identity table/,/^## Checks per pod/p' "$$r" | sed '/^## Checks per pod/d'; \
	done; \
	echo "== demo: set-up $$(( play - start )) s, site.yml $$(( end - play )) s (exit $$rc), total $$(( end - start )) s"; \
	exit $$rc

# -------------------------------------------------------------------------- tests
unit:
	@start=$$(date +%s); rc=0; \
	timeout $(UNIT_TIMEOUT) python -m pytest -q -p no:cacheprovider || rc=$$?; \
	if [ $$rc = 5 ]; then echo "unit: pytest collected no tests under tests/" >&2; fi; \
	echo "== unit: $$(( $$(date +%s) - start )) s, exit $$rc"; exit $$rc

lint:
	@start=$$(date +%s); rc=0; \
	timeout $(LINT_TIMEOUT) ansible-lint --profile production --offline \
	  --exclude .venv --exclude .collections --exclude .lab --exclude .cache || rc=$$?; \
	echo "== lint: $$(( $$(date +%s) - start )) s, exit $$rc"; exit $$rc

sanity:
	@start=$$(date +%s); rc=0; \
	if [ -x tools/sanity.sh ]; then SANITY_TIMEOUT=$(SANITY_TIMEOUT) tools/sanity.sh || rc=$$?; \
	elif [ -f tools/sanity.sh ]; then SANITY_TIMEOUT=$(SANITY_TIMEOUT) bash tools/sanity.sh || rc=$$?; \
	else echo "sanity: SKIPPED, tools/sanity.sh does not exist yet"; fi; \
	echo "== sanity: $$(( $$(date +%s) - start )) s, exit $$rc"; exit $$rc

# The tarball as users get it: build, install into an empty collections path (no
# dependencies: Galaxy is unreachable), and read every module's and role's docs from there.
BUILD := $(LAB)/build
build:
	@start=$$(date +%s); rm -rf $(BUILD); mkdir -p $(BUILD); \
	ansible-galaxy collection build --force --output-path $(BUILD) >/dev/null; \
	tarball=$$(ls $(BUILD)/stateful-nfs-*.tar.gz); echo "build: $$tarball ($$(du -k $$tarball | cut -f1) KiB)"; \
	export ANSIBLE_COLLECTIONS_PATH=$(BUILD)/collections; \
	ansible-galaxy collection install --force --no-deps --offline -p $(BUILD)/collections $$tarball >/dev/null; \
	check() { ansible-doc --json "$$@" | python -c 'import json,sys; sys.exit(0 if json.load(sys.stdin) else 1)' \
	          || { echo "build: ansible-doc $$* found nothing in the installed tarball" >&2; exit 1; }; }; \
	mods=$$(ls plugins/modules/*.py | xargs -n1 basename | sed 's/\.py$$//'); \
	for m in $$mods; do check stateful.nfs.$$m; done; \
	for r in $$(ls roles); do check -t role stateful.nfs.$$r; done; \
	filters=$$(ls plugins/filter/*.py | xargs -n1 basename | sed 's/\.py$$//'); \
	for f in $$filters; do check -t filter stateful.nfs.$$f; done; \
	echo "== build: tarball installs; ansible-doc reads $$(echo $$mods | wc -w) modules, $$(ls roles | wc -l) roles and $$(echo $$filters | wc -w) filters from it; $$(( $$(date +%s) - start )) s"

# Every scenario runs, even after a failure; the target fails if any failed.
molecule:
	@mkdir -p $(LAB)/logs; failed=""; summary=""; \
	[ -n "$(strip $(SCENARIOS))" ] || { echo "molecule: no scenario (molecule/*/molecule.yml)" >&2; exit 1; }; \
	for s in $(SCENARIOS); do \
	  echo "== molecule test -s $$s (log $(LAB)/logs/molecule-$$s.log)"; \
	  t0=$$(date +%s); rc=0; onlab=""; case " $(LAB_SCENARIOS) " in *" $$s "*) onlab=1;; esac; \
	  [ -z "$$onlab" ] || timeout 600 python -m tests.support.lab || echo "molecule: the lab's image check failed" >&2; \
	  timeout $(MOLECULE_TIMEOUT) molecule test -s $$s 2>&1 | tee $(LAB)/logs/molecule-$$s.log || rc=$$?; \
	  dt=$$(( $$(date +%s) - t0 )); \
	  if [ $$rc = 0 ]; then res=passed; else res="FAILED (exit $$rc)"; failed="$$failed $$s"; fi; \
	  line=$$(printf '  %-24s %5d s  %s' "$$s" "$$dt" "$$res"); \
	  [ -z "$$onlab" ] || line="$$line (lab $${LAB_NAME:-snfs-lab})"; \
	  echo "$$line" >$(LAB)/logs/molecule-$$s.time; summary="$$summary$$line"$$'\n'; \
	done; \
	echo "== molecule: per-scenario wall time"; printf '%s' "$$summary"; \
	if [ -n "$$failed" ]; then echo "== molecule: FAILED:$$failed" >&2; exit 1; fi

# The suites that run against the lab cluster (it must be up: make lab-up): the cluster's smoke
# suite, the Kubernetes modules' integration tests, and the cluster parts of the security and
# bad-input suites (tests marked `lab`; the rest of those folders runs in `make unit`). The
# modules reach the API through the fault proxy (mitmproxy from .venv-faultproxy). Bound: 2413 s on
# 2026-12-07 beside the second stream (host scenarios, then faults on the second lab), 1936 s alone; an
# earlier run beside the host scenarios did not finish within 2400 s; 3300 s keeps make test within CI's 90 minutes.
CLUSTER_TEST_TIMEOUT ?= 3300
cluster-test: faultproxy
	@start=$$(date +%s); mkdir -p $(LAB)/logs; set +e; \
	PYTHONUNBUFFERED=1 timeout $(CLUSTER_TEST_TIMEOUT) python -m pytest -v -p no:cacheprovider --durations=10 -m lab \
	  tests/cluster_smoke tests/integration tests/security tests/bad_input 2>&1 | tee $(LAB)/logs/cluster-test.log; \
	rc=$${PIPESTATUS[0]}; echo "== cluster-test: $$(( $$(date +%s) - start )) s, exit $$rc" | tee -a $(LAB)/logs/cluster-test.log; exit $$rc

# The lab scenarios (create: lab_up.yml), longest first. Each is taken, once, by the first of make
# test's two streams free to run it (a directory made in SCENARIO_QUEUE claims it), on that stream's
# own lab: never two scenarios on one lab, never one beside cluster-test on its lab (faults
# restarts NFS-Ganesha, kube-apiserver and a kubelet; applications cordons a node).
LAB_SCENARIOS  := $(sort $(patsubst molecule/%/molecule.yml,%,$(shell grep -l 'resources/lab_up.yml' molecule/*/molecule.yml)))
HOST_SCENARIOS := $(filter-out $(LAB_SCENARIOS),$(SCENARIOS))
LONGEST_FIRST := faults default applications k8s_real
LAB_SCENARIO_ORDER := $(filter $(LAB_SCENARIOS),$(LONGEST_FIRST)) $(filter-out $(LONGEST_FIRST),$(LAB_SCENARIOS))
SCENARIO_QUEUE := $(LAB)/scenario-queue
lab-scenario-queue:
	@mkdir -p $(SCENARIO_QUEUE); rc=0; \
	for s in $(filter $(SCENARIOS),$(LAB_SCENARIO_ORDER)); do \
	  mkdir $(SCENARIO_QUEUE)/$$s 2>/dev/null || continue; \
	  echo "== lab scenario $$s on lab $${LAB_NAME:-snfs-lab}"; \
	  $(MAKE) --no-print-directory molecule SCENARIOS=$$s || rc=$$?; \
	done; exit $$rc

# make test's second stream, beside cluster-test: the scenarios with hosts of their own (containers,
# VMs), then, while lab scenarios are left in the queue, a second lab (LAB2_NAME: another LAB_NAME,
# tests/lab/README.md) that takes them; it is taken down at the end, also after a failure or an interrupt.
LAB2_NAME := snfs-lab2
LAB2_ENV  := LAB_NAME=$(LAB2_NAME) SNFS_LAB_INVENTORY=$(LAB)/labs/$(LAB2_NAME)/inventory \
             K8S_REAL_INVENTORY=$(LAB)/labs/$(LAB2_NAME)/inventory
test-second-stream:
	@rc=0; [ -z "$(strip $(HOST_SCENARIOS))" ] || $(MAKE) --no-print-directory molecule SCENARIOS="$(HOST_SCENARIOS)" || rc=$$?; \
	left=$$(for s in $(filter $(SCENARIOS),$(LAB_SCENARIO_ORDER)); do [ -d $(SCENARIO_QUEUE)/$$s ] || echo $$s; done); \
	if [ -z "$$left" ]; then echo "== second stream: no lab scenario left for a second lab"; exit $$rc; fi; \
	trap 'LAB_NAME=$(LAB2_NAME) tests/lab/lab-down.sh' EXIT; \
	t0=$$(date +%s); \
	if LAB_NAME=$(LAB2_NAME) timeout 900 tests/lab/lab-up.sh; then \
	  echo "== lab-up $(LAB2_NAME): $$(( $$(date +%s) - t0 )) s"; \
	  $(LAB2_ENV) $(MAKE) --no-print-directory lab-scenario-queue || rc=$$?; \
	else rc=1; echo "== second stream: lab $(LAB2_NAME) did not come up" >&2; fi; \
	exit $$rc

# deps must succeed. The Kubernetes programs (Go, the longest cold build: minutes with empty caches)
# start building as soon as apt has put gcc and git there, beside the rest of deps. The images and the
# lab (lab-up: images first, the Debian host images, then the node and pod images, which wait for those
# programs) are built while unit, lint, sanity and build run (they need no lab; the log of the first follows them). Then, if the
# lab is up, two streams: cluster-test on the lab, then the lab scenarios left in the queue; beside it
# the host scenarios, then the lab scenarios left on a second lab. The second stream starts after
# lab-up, not before: started beside the cold Go builds (2026-12-07, empty caches) it slowed them from
# 232 s to 670 s for Kubernetes, and cluster-test, the longest suite, started 1340 s in. Both labs are
# taken down at the end, and the target fails if anything failed: its last lines name each part that
# failed and, for a failed suite, why (tools/failure_digest.py reads its log; CI keeps only the tail).
# Alone, cluster-test keeps about 60% of the two cores busy (it waits on the cluster; 60 s samples,
# 2026-12-07); each phase's line says how busy the CPUs were (/proc/stat, all cores).
test:
	@start=$$(date +%s); rc=0; \
	cpu() { read -r _ u n s i w q sq st _ </proc/stat; echo "$$((u + n + s + q + sq + st)) $$((i + w))"; }; \
	phase() { read -r b0 i0 <<<"$$mark"; read -r b1 i1 <<<"$$(cpu)"; \
	  echo "== make test phase $$1: $$(( $$(date +%s) - t0 )) s, CPU busy $$(( 100 * (b1 - b0) / (b1 - b0 + i1 - i0 + 1) ))% of $$(nproc) cores"; \
	  t0=$$(date +%s); mark=$$(cpu); }; \
	t0=$$start; mark=$$(cpu); mkdir -p $(LAB)/logs; \
	failed() { rc=$$1; failedparts="$$failedparts $$2 (exit $$1);"; }; failedparts=; \
	$(MAKE) --no-print-directory deps-apt || failed $$? deps-apt; \
	if [ $$rc = 0 ]; then \
	  gobuildlog=$(LAB)/logs/build-binaries-early.log; \
	  echo "== the lab's programs build beside deps (log $$gobuildlog; lab-up waits for them)"; \
	  setsid tests/lab/build-binaries.sh >$$gobuildlog 2>&1 & gobuild=$$!; \
	  $(MAKE) --no-print-directory deps || failed $$? deps; \
	  [ $$rc = 0 ] || kill -- -$$gobuild 2>/dev/null || true; \
	  phase "deps (the lab's programs building beside them)"; \
	fi; \
	if [ $$rc = 0 ]; then \
	  lablog=$(LAB)/logs/images-and-lab-up.log; labrc=0; \
	  echo "== images and lab-up: beside unit, lint, sanity and build (log $$lablog)"; \
	  $(MAKE) --no-print-directory lab-up >$$lablog 2>&1 & lab=$$!; \
	  $(MAKE) --no-print-directory -k unit lint sanity build || failed $$? "unit, lint, sanity or build"; \
	  wait $$lab || labrc=$$?; \
	  echo "== images and lab-up (run beside unit, lint, sanity and build; its log follows)"; cat $$lablog; \
	  phase "checks, images and lab-up"; \
	  if [ $$labrc = 0 ]; then \
	    rm -rf $(SCENARIO_QUEUE) $(LAB)/logs/molecule-*.time $(LAB)/logs/cluster-test.log; mkdir -p $(SCENARIO_QUEUE); \
	    streamlog=$(LAB)/logs/second-stream.log; \
	    echo "== second stream: molecule $(HOST_SCENARIOS), then lab scenarios on lab $(LAB2_NAME) (log $$streamlog)"; \
	    $(MAKE) --no-print-directory test-second-stream >$$streamlog 2>&1 & second=$$!; \
	    $(MAKE) --no-print-directory cluster-test || failed $$? cluster-test; \
	    phase "cluster-test"; \
	    $(MAKE) --no-print-directory lab-scenario-queue || failed $$? "lab scenarios on snfs-lab"; \
	    phase "lab scenarios on snfs-lab"; \
	    wait $$second || failed $$? "second stream"; \
	    phase "the second stream's rest"; \
	    echo "== second stream (run beside cluster-test; its log follows)"; cat $$streamlog; \
	    echo "== molecule: per-scenario wall time, both streams"; \
	    for s in $(SCENARIOS); do cat $(LAB)/logs/molecule-$$s.time 2>/dev/null || echo "  $$s: did not run"; done; \
	  else \
	    failed $$labrc "images or lab-up"; echo "== make test: the images or the lab did not come up (exit $$labrc): no lab suite ran" >&2; \
	  fi; \
	  $(MAKE) --no-print-directory lab-down || failed $$? lab-down; \
	  LAB_NAME=$(LAB2_NAME) tests/lab/lab-down.sh >/dev/null || failed $$? "lab-down $(LAB2_NAME)"; \
	fi; \
	[ -z "$${gobuild:-}" ] || wait $$gobuild || echo "== the early build of the lab's programs ended with exit $$? (log $$gobuildlog)"; \
	if [ $$rc != 0 ]; then \
	  failedlogs=$$(grep -l FAILED $(LAB)/logs/molecule-*.time 2>/dev/null | sed 's/\.time$$/.log/' || true); \
	  [ ! -f $(LAB)/logs/cluster-test.log ] || grep -qs "^== cluster-test: .*exit 0$$" $(LAB)/logs/cluster-test.log \
	    || failedlogs="$(LAB)/logs/cluster-test.log $$failedlogs"; \
	  [ -z "$$failedlogs" ] || $(VENV)/bin/python tools/failure_digest.py $$failedlogs || true; \
	fi; \
	[ $$rc = 0 ] || echo "== make test: failed:$$failedparts"; \
	echo "== make test: total wall time $$(( $$(date +%s) - start )) s, exit $$rc"; exit $$rc

# ------------------------------------------------------------------------- bench
# Not a test: tools/bench/bench.py brings up labs of its own beside the main one
# (tests/lab/lab-up.sh with LAB_NAME=snfs-bench and LAB_NODES=1, 3 or 6), runs every row
# BENCH_RUNS times and takes its lab down at the end, also on failure or interrupt.
# Bounded: each lab-up and each play run has its own bound, the whole by BENCH_TIMEOUT.
BENCH_RUNS    ?= 3
BENCH_TIMEOUT ?= 9000
bench: deps images
	@start=$$(date +%s); rc=0; \
	BENCH_RUNS=$(BENCH_RUNS) timeout --kill-after=120 $(BENCH_TIMEOUT) $(VENV)/bin/python tools/bench/bench.py || rc=$$?; \
	echo "== bench: $$(( $$(date +%s) - start )) s, exit $$rc (results/bench/results.md, results.png)"; exit $$rc

# ----------------------------------------------------------- execution environment
# Not part of `make test` (a fresh build takes minutes and most of a gigabyte of layers;
# CI runs it as a job of its own, README "AWX / Automation Controller"). tools/ee/build.py
# builds execution-environment.yml with ansible-builder on stateful-nfs-ee-base:bookworm (from
# the lab's Debian image), the collections as local tarballs; tools/ee/job.py runs a job in it
# the way an AWX job template does.
EE_TIMEOUT        ?= 2400
EE_NO_CACHE       ?=
EE_JOB_INVENTORY  ?= $(LAB_INVENTORY)
EE_JOB_KUBECONFIG ?= $(LAB)/kubeconfig
EE_JOB_NETWORK    ?= stateful-nfs-lab
EE_JOB_PLAYBOOK   ?= playbooks/verify.yml
# Launch-time extra vars, space-separated key=value (over the survey's defaults, as in AWX).
EE_JOB_EXTRA_VARS ?=
EE_JOB_TIMEOUT    ?= 3600

ee: deps
	@tests/lab/build-images.sh bookworm
	@timeout --kill-after=30 $(EE_TIMEOUT) $(VENV)/bin/python tools/ee/build.py $(if $(EE_NO_CACHE),--no-cache)

ee-test: ee lab-up
	@timeout --kill-after=30 3600 tests/ee/selftest.sh

ee-job: ee
	@$(VENV)/bin/python tools/ee/job.py --inventory $(EE_JOB_INVENTORY) --kubeconfig $(EE_JOB_KUBECONFIG) \
	  --network $(EE_JOB_NETWORK) --playbook $(EE_JOB_PLAYBOOK) --job-timeout $(EE_JOB_TIMEOUT) \
	  $(foreach v,$(EE_JOB_EXTRA_VARS),-e '$(v)')
