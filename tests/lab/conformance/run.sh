#!/usr/bin/env bash
# The upstream Kubernetes e2e suite as a second opinion on the lab (issue 10, item 8): run the
# [Conformance] tests whose names contain StatefulSet or PersistentVolume against a lab, once.
# Not part of `make test`.
#
#   1 build    e2e.test (go test -c k8s.io/kubernetes/test/e2e), agnhost
#              (k8s.io/kubernetes/test/images/agnhost) and kubectl from a temporary copy of
#              tests/lab/src/kubernetes, the lab's pin; into $SNFS_LAB_CACHE/bin/e2e-<key>/,
#              key = sha256 of the module's files, the build function and the Go version
#   2 select   --ginkgo.dry-run with the focus: the selected tests, listed before anything runs
#   3 lab      the lab named by LAB_NAME (default snfs-e2e): used if it answers, else brought
#              up with lab-up.sh (and taken down again at the end, unless E2E_KEEP_LAB=1)
#   4 images   the images those tests run, without any registry (below), imported into every
#              node's containerd as lab-up.sh does
#   5 run      e2e.test, bounded by `timeout`, JUnit report in the report directory
#   6 summary  passed / failed / skipped per test, each failure's first line
#
# Images. KUBE_TEST_REPO_LIST (repo-list.yaml) maps every registry the tests know to a name
# under localhost/stateful-nfs-lab/, so nothing is named as if it came from an upstream
# registry and nothing can be pulled. The selected tests run three images:
#   e2e-test-images/agnhost:<Agnhost>      agnhost of the pinned module (its VERSION file says
#                                          which; v1.35.4: 2.59, the tag the tests expect)
#   e2e-test-images/agnhost:<AgnhostPrev>  THE SAME PROGRAM under the tag the tests expect for
#                                          the previous agnhost (v1.35.4: 2.55); upstream it is an
#                                          older build. The StatefulSet tests only need two
#                                          distinct images to roll between: the two images
#                                          differ by a label naming the tag they stand in for
#   pause:<Pause>                          the lab's sandbox image (build/pause of the same
#                                          release, tag from its Makefile, already on the nodes)
# The agnhost image's userland is Debian's busybox-static, not Alpine (agnhost.Dockerfile).
#
# Usage: tests/lab/conformance/run.sh [--build-only]
# Environment:
#   LAB_NAME            the lab to test (default snfs-e2e; snfs-lab is the main one)
#   E2E_KEEP_LAB=1      leave a lab this script brought up running
#   E2E_FOCUS           ginkgo focus (default: the conformance tests named above)
#   E2E_REPORT_DIR      where the JUnit report and logs go (default
#                       .lab/labs/<LAB_NAME>/conformance/<UTC time>/)
#   E2E_BUILD_TIMEOUT   seconds for the build (default 3600; measured here on 2 cores: 258 s
#                       with Go's build cache warm from the lab's own Kubernetes build)
#   E2E_RUN_TIMEOUT     seconds for the test run (default 3600)
#   SNFS_LAB_CACHE      the lab's build cache (default /var/cache/stateful-nfs-lab)
# Exit status: 0 when every selected test passed, 1 otherwise (and on any setup failure).
set -euo pipefail
export LAB_NAME="${LAB_NAME:-snfs-e2e}"
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lab.sh"

HERE="$LAB_REPO/tests/lab/conformance"
SRC="$LAB_REPO/tests/lab/src/kubernetes"
BUILD_TIMEOUT="${E2E_BUILD_TIMEOUT:-3600}"
RUN_TIMEOUT="${E2E_RUN_TIMEOUT:-3600}"
# Conformance tests are the ones whose text ends in [Conformance]; ginkgo ORs repeated
# --ginkgo.focus flags, so both conditions are one expression.
FOCUS="${E2E_FOCUS:-(StatefulSet|PersistentVolume).*\[Conformance\]}"
REPORT_DIR="${E2E_REPORT_DIR:-$LAB_DIR/conformance/$(date -u +%Y%m%dT%H%M%SZ)}"
export KUBE_TEST_REPO_LIST="$HERE/repo-list.yaml"
export GOTOOLCHAIN=local CGO_ENABLED=0
BUILD_ONLY=0
case "${1:-}" in
  --build-only) BUILD_ONLY=1 ;;
  "") ;;
  *) lab_die "usage: $0 [--build-only]" ;;
esac

e2e_log() { printf '[e2e] %s\n' "$*" >&2; }
command -v go >/dev/null || lab_die "conformance: the Go toolchain is missing (go not on PATH)"
mkdir -p "$LAB_CACHE/bin" "$LAB_CACHE/images" "$LAB_DIR/logs"

# ------------------------------------------------------------------------ 1 build
# build_e2e OUT: e2e.test, agnhost and kubectl of the pinned k8s.io/kubernetes into OUT. The lab's
# module requires only what the cluster's commands import; the e2e suite also imports ginkgo,
# gomega and the like, so a temporary copy of the module is built with -mod=mod: the go
# command adds them at the versions k8s.io/kubernetes's own go.mod requires (minimal version
# selection; the copy's go.mod is kept in OUT as the record). The checkout is not touched.
build_e2e() {
  local out="$1" work version major minor date ldflags="-s -w" pkg
  work="$(mktemp -d /var/tmp/snfs-e2e-src.XXXXXX)"
  cp "$SRC/go.mod" "$SRC/go.sum" "$work/"
  cd "$work"
  version="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
  major="${version#v}"; major="${major%%.*}"
  minor="${version#v*.}"; minor="${minor%%.*}"
  date="$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  # The version the suite logs ("e2e test version"), set as hack/lib/version.sh does.
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  GOFLAGS=-mod=mod go test -c -trimpath -ldflags "$ldflags" -o "$out/e2e.test" k8s.io/kubernetes/test/e2e
  GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out/agnhost" k8s.io/kubernetes/test/images/agnhost
  # The suite's own kubectl (it execs into pods with it): the lab's copy lives in a cache
  # directory that a rebuild of the lab's programs may replace while the suite runs.
  GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
  local dir
  dir="$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
  cp "$dir/test/images/agnhost/VERSION" "$out/agnhost.version"
  cp "$dir/test/images/agnhost/porter/localhost.crt" "$dir/test/images/agnhost/porter/localhost.key" "$out/"
  cp go.mod "$out/go.mod.e2e"
  printf '%s\n' "$version" >"$out/version"
  cd / && rm -rf "$work"
}

build_key() {
  { go version
    declare -f build_e2e
    (cd "$SRC" && find . -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -c1-16
}

BIN="$LAB_CACHE/bin/e2e-$(build_key)"
exec 9>"$LAB_CACHE/build-e2e.lock"
flock -w "$BUILD_TIMEOUT" 9 || lab_die "conformance: another build holds $LAB_CACHE/build-e2e.lock"
if [ -f "$BIN/.complete" ]; then
  e2e_log "1/6 build: cached, $BIN (built in $(cat "$BIN/build.seconds") s)"
else
  log="$LAB_DIR/logs/build-e2e.log"
  e2e_log "1/6 build: e2e.test, agnhost and kubectl of $(cd "$SRC" && go list -m -f '{{.Version}}' k8s.io/kubernetes) into $BIN (minutes; longer on a cold Go build cache); log $log"
  start="$(date +%s)"
  rm -rf "$BIN" "$BIN.tmp"
  mkdir -p "$BIN.tmp"
  export SRC
  export -f build_e2e
  # shellcheck disable=SC2016  # $1 is the inner shell's argument
  if ! timeout "$BUILD_TIMEOUT" bash -euo pipefail -c 'build_e2e "$1"' _ "$BIN.tmp" >"$log" 2>&1; then
    rm -rf "$BIN.tmp"
    lab_die "building e2e.test failed: $(grep -m1 -iE 'error|fail|denied|refused|not found|timeout' "$log" || tail -n 1 "$log"); log: $log"
  fi
  echo $(( $(date +%s) - start )) >"$BIN.tmp/build.seconds"
  touch "$BIN.tmp/.complete"
  mv "$BIN.tmp" "$BIN"
  find "$LAB_CACHE/bin" -maxdepth 1 -name 'e2e-*' ! -name "$(basename "$BIN")" -exec rm -rf {} +
  e2e_log "built e2e.test $(cat "$BIN/version") in $(cat "$BIN/build.seconds") s"
fi
exec 9>&-
E2E="$BIN/e2e.test"
if [ "$BUILD_ONLY" = 1 ]; then printf '%s\n' "$BIN"; exit 0; fi

# ------------------------------------------------------------------------ 2 select
mkdir -p "$REPORT_DIR"
REPORT_DIR="$(cd "$REPORT_DIR" && pwd)"
[ -f "$LAB_IMAGES_JSON" ] || lab_die "$LAB_IMAGES_JSON is missing: run 'make images'"
KUBECTL="$BIN/kubectl"
E2E_FLAGS=(
  --kubeconfig="$LAB_KUBECONFIG" --provider=skeleton --kubectl-path="$KUBECTL"
  --ginkgo.focus="$FOCUS" --ginkgo.no-color
)
# The selected specs of a ginkgo JSON report, by full text (what the JUnit report names them):
# every It but those skipped without a reason (not selected by the focus).
selected_specs() {
  python3 - "$1" <<'EOF'
import json, sys
for suite in json.load(open(sys.argv[1])):
    for spec in suite.get("SpecReports") or []:
        if spec.get("LeafNodeType") != "It":
            continue
        if spec.get("State") == "skipped" and not (spec.get("Failure") or {}).get("Message"):
            continue
        print(" ".join((spec.get("ContainerHierarchyTexts") or []) + [spec["LeafNodeText"]]))
EOF
}
cd "$REPORT_DIR"   # whatever the suite writes lands beside its report
"$E2E" "${E2E_FLAGS[@]}" --ginkgo.dry-run --ginkgo.json-report="$REPORT_DIR/dry-run.json" \
  >"$REPORT_DIR/dry-run.log" 2>&1 || lab_die "the dry run failed; log: $REPORT_DIR/dry-run.log"
selected_specs "$REPORT_DIR/dry-run.json" | LC_ALL=C sort >"$REPORT_DIR/selected.txt"
rm -f "$REPORT_DIR/dry-run.json"   # every spec of the suite, 11 MB: the list is what matters
[ -s "$REPORT_DIR/selected.txt" ] || lab_die "the focus '$FOCUS' selects no test"
e2e_log "2/6 select: focus '$FOCUS' selects $(wc -l <"$REPORT_DIR/selected.txt") tests (--ginkgo.dry-run):"
sed 's/^/[e2e]   /' "$REPORT_DIR/selected.txt" >&2

# ------------------------------------------------------------------------ 3 lab
BROUGHT_UP=0
finish() {
  local rc=$?
  if [ "$BROUGHT_UP" = 1 ] && [ "${E2E_KEEP_LAB:-0}" != 1 ]; then
    e2e_log "taking lab $LAB_NAME down again (E2E_KEEP_LAB=1 keeps it)"
    "$LAB_REPO/tests/lab/lab-down.sh" >&2 || e2e_log "lab-down failed: run 'LAB_NAME=$LAB_NAME tests/lab/lab-down.sh'"
  fi
  exit "$rc"
}
trap finish EXIT
if [ -f "$LAB_KUBECONFIG" ] && timeout 20 "$KUBECTL" --kubeconfig "$LAB_KUBECONFIG" get --raw /readyz >/dev/null 2>&1; then
  e2e_log "3/6 lab: $LAB_NAME is up, using it as it is"
else
  e2e_log "3/6 lab: bringing up $LAB_NAME (tests/lab/lab-up.sh; about 65 s on built images)"
  BROUGHT_UP=1
  "$LAB_REPO/tests/lab/lab-up.sh" || lab_die "lab-up failed for $LAB_NAME"
fi
NODES=()
while read -r node; do NODES+=("$node"); done < <(lab_nodes)

# ------------------------------------------------------------------------ 4 images
# The names the suite will use (--list-images prints every image it knows, after the
# KUBE_TEST_REPO_LIST mapping): agnhost under the e2e-test-images name, and pause.
mapfile -t KNOWN < <("$E2E" --list-images 2>/dev/null | LC_ALL=C sort -u)
mapfile -t AGNHOST_TAGS < <(printf '%s\n' "${KNOWN[@]}" | grep "^$LAB_IMAGE_PREFIX/e2e-test-images/agnhost:")
PAUSE_IMAGE="$(printf '%s\n' "${KNOWN[@]}" | grep "^$LAB_IMAGE_PREFIX/pause:" || true)"
if [ "${#AGNHOST_TAGS[@]}" = 0 ] || [ -z "$PAUSE_IMAGE" ]; then
  lab_die "e2e.test --list-images names no agnhost or pause image under $LAB_IMAGE_PREFIX (KUBE_TEST_REPO_LIST not applied?)"
fi
[ "$PAUSE_IMAGE" = "$(lab_images_json pause)" ] \
  || lab_die "the suite expects the sandbox image $PAUSE_IMAGE but the lab's is $(lab_images_json pause)"
AGNHOST_VERSION="$(cat "$BIN/agnhost.version")"
e2e_log "4/6 images: ${AGNHOST_TAGS[*]} (agnhost $AGNHOST_VERSION of the pinned module) and $PAUSE_IMAGE (the lab's)"
ctx="$(mktemp -d)"
cp "$HERE/agnhost.Dockerfile" "$BIN/agnhost" "$BIN/localhost.crt" "$BIN/localhost.key" "$ctx/"
base="$LAB_IMAGE_PREFIX/debian:bookworm-minbase"
"$DOCKER" image inspect "$base" >/dev/null 2>&1 || lab_die "image $base is missing: run 'make images'"
for tag in "${AGNHOST_TAGS[@]}"; do
  want="${tag##*:}"
  # Keyed by what the image is made of and the tag it stands in for.
  key="$( { "$DOCKER" image inspect -f '{{.Id}}' "$base"; cat "$ctx"/*; echo "$want"; } | sha256sum | cut -c1-16)"
  [ "$(lab_image_hash "$tag")" = "$key" ] && continue
  note="agnhost $AGNHOST_VERSION from k8s.io/kubernetes $(cat "$BIN/version")"
  [ "$want" = "$AGNHOST_VERSION" ] || note+=", tagged $want because the tests expect that tag (upstream: an older agnhost)"
  timeout 1800 "$DOCKER" build --build-arg "BASE=$base" --label "$LAB_IMAGE_HASH_LABEL=$key" \
    --label "io.stateful-nfs.lab.e2e.stands-in-for=registry.k8s.io/e2e-test-images/agnhost:$want" \
    --label "io.stateful-nfs.lab.e2e.built-from=$note" \
    -f "$ctx/agnhost.Dockerfile" -t "$tag" "$ctx" >"$LAB_DIR/logs/build-e2e-agnhost-$want.log" 2>&1 \
    || lab_die "building $tag failed; log: $LAB_DIR/logs/build-e2e-agnhost-$want.log"
done
rm -rf "$ctx"
ids="$(for i in "${AGNHOST_TAGS[@]}"; do "$DOCKER" image inspect -f '{{.Id}}' "$i"; done | sha256sum | cut -c1-16)"
archive="$LAB_CACHE/images/e2e-$ids.tar"
if [ ! -f "$archive" ]; then
  "$DOCKER" save "${AGNHOST_TAGS[@]}" -o "$archive.tmp"
  mv "$archive.tmp" "$archive"
  find "$LAB_CACHE/images" -maxdepth 1 -name 'e2e-*.tar' ! -name "e2e-$ids.tar" -delete
fi
for node in "${NODES[@]}"; do
  have="$(timeout 60 "$DOCKER" exec "$node" ctr -n k8s.io images ls -q | sort)"
  if [ -n "$(comm -23 <(printf '%s\n' "${AGNHOST_TAGS[@]}" | sort) <(echo "$have"))" ]; then
    timeout 300 "$DOCKER" exec -i "$node" ctr -n k8s.io images import - <"$archive" >"$LAB_DIR/logs/e2e-images-$node.log" 2>&1 \
      || lab_die "importing the e2e images into $node failed; log: $LAB_DIR/logs/e2e-images-$node.log"
    have="$(timeout 60 "$DOCKER" exec "$node" ctr -n k8s.io images ls -q | sort)"
  fi
  missing="$(comm -23 <(printf '%s\n' "${AGNHOST_TAGS[@]}" "$PAUSE_IMAGE" | sort) <(echo "$have"))"
  [ -z "$missing" ] || lab_die "$node lacks $(echo "$missing" | xargs) after the import"
done

# ------------------------------------------------------------------------ 5 run
# ginkgo's own timeout ends the suite (and writes the report) before `timeout` kills it.
e2e_log "5/6 run: e2e.test against $LAB_NAME, at most ${RUN_TIMEOUT}s; log $REPORT_DIR/e2e.log"
start="$(date +%s)"
rc=0
timeout --kill-after=60 "$RUN_TIMEOUT" "$E2E" "${E2E_FLAGS[@]}" --report-dir="$REPORT_DIR" \
  --ginkgo.timeout="$(( RUN_TIMEOUT - 120 ))s" --ginkgo.v \
  >"$REPORT_DIR/e2e.log" 2>&1 || rc=$?
e2e_log "e2e.test exited $rc after $(( $(date +%s) - start )) s"

# ------------------------------------------------------------------------ 6 summary
JUNIT="$REPORT_DIR/junit_01.xml"
[ -f "$JUNIT" ] || lab_die "no JUnit report ($JUNIT): see $REPORT_DIR/e2e.log"
e2e_log "6/6 summary (JUnit $JUNIT; e2e.test $(cat "$BIN/version") built in $(cat "$BIN/build.seconds") s):"
python3 - "$JUNIT" "$REPORT_DIR/selected.txt" <<'EOF'
import re
import sys
import xml.etree.ElementTree as ET

selected = set(open(sys.argv[2]).read().splitlines())
counts = {"passed": 0, "failed": 0, "skipped": 0}
setup_failures = 0
seen = set()


def first_line(text):
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")[:300]


for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    kind, text = re.match(r"\[([^\]]*)\] ?(.*)", case.get("name", "")).groups()
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    skipped = case.find("skipped")
    if kind != "It":
        # Suite setup and reporting nodes: only a failure is news.
        if problem is not None:
            setup_failures += 1
            print(f"FAILED   [{kind}]\n           {first_line(problem.text)}")
        continue
    if text not in selected:
        continue
    seen.add(text)
    if problem is not None:
        state, why = problem.get("type") or "failed", first_line(problem.text)
        counts["failed"] += 1
    elif skipped is not None:
        state, why = "skipped", skipped.get("message", "")
        counts["skipped"] += 1
    else:
        state, why = "passed", ""
        counts["passed"] += 1
    print(f"{state.upper():8} {float(case.get('time') or 0):7.1f}s  {text}" + (f"\n           {why}" if why else ""))
for text in sorted(selected - seen):
    print(f"NOT RUN  {text}")
print(f"passed {counts['passed']}, failed {counts['failed']}, skipped {counts['skipped']}, "
      f"not run {len(selected - seen)} of {len(selected)} selected; suite setup failures {setup_failures}")
sys.exit(1 if counts["failed"] or setup_failures or selected - seen else 0)
EOF
