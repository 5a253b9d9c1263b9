#!/usr/bin/env bash
# Run `ansible-test sanity` on this collection's plugins.
#
# ansible-test only works on a tree laid out as .../ansible_collections/<ns>/<name>/, so this
# copies the files git would ship (tracked + untracked-but-not-ignored) into a temporary
# directory with that layout and runs ansible-test there. Nothing in the repository is
# changed.
#
# Usage: tools/sanity.sh [extra ansible-test sanity args...]
#   e.g. tools/sanity.sh --test validate-modules
# Environment:
#   SANITY_PYTHON   Python version to test with (default 3.11, the controller's)
#   SANITY_TIMEOUT  seconds before ansible-test is killed (default 1800)
#   SANITY_MODE     --venv (default: ansible-test builds its own pinned requirement
#                   venvs, needs PyPI) or --local (use the current Python environment as is)
#   SANITY_KEEP=1   keep the temporary copy (its path is printed)
#   SANITY_TARGETS  space-separated paths to test instead of plugins/
#
# Exit status: ansible-test's (non-zero on any real sanity failure), 124 on timeout.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
ansible_test=$venv/bin/ansible-test
python_version=${SANITY_PYTHON:-3.11}
timeout_s=${SANITY_TIMEOUT:-1800}
mode=${SANITY_MODE:---venv}

if [[ ! -x $ansible_test ]]; then
    echo "sanity: $ansible_test not found; create the venv first (make deps)" >&2
    exit 2
fi

# ansible-test builds one virtual environment per sanity test and bootstraps pip into each with a
# get-pip script downloaded from ci-files.testing.ansible.com, which is not reachable here (only
# PyPI is). It looks for a cached copy first; when there is none, write a stand-in that does the
# same job with the interpreter's bundled ensurepip followed by a normal `pip install` of the
# exact pins ansible-test asks for (from PyPI).
pip_version=$("$venv/bin/python" - <<'EOF'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py').read_text()
m = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", src)
print(m.group(1) if m else '')
EOF
)
if [[ -n $pip_version ]]; then
    get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
    if [[ ! -s $get_pip ]]; then
        mkdir -p "$(dirname "$get_pip")"
        cat >"$get_pip" <<'EOF'
"""Offline stand-in for ansible-test's get-pip bootstrap script (written by stateful.nfs tools/sanity.sh).

ansible-test runs this inside a fresh virtual environment with the pip arguments it wants
(pinned pip version and packages). Bootstrap the bundled pip with ensurepip, then install
exactly what was asked for from the configured index (PyPI).
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)
EOF
        echo "sanity: wrote offline pip bootstrap stand-in $get_pip"
    fi
fi

namespace=$(sed -n 's/^namespace:[[:space:]]*//p' "$repo/galaxy.yml" | tr -d "\"' ")
name=$(sed -n 's/^name:[[:space:]]*//p' "$repo/galaxy.yml" | tr -d "\"' ")

work=$(mktemp -d "${TMPDIR:-/tmp}/stateful-nfs-sanity.XXXXXX")
if [[ ${SANITY_KEEP:-0} == 1 ]]; then
    echo "sanity: keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
dest=$work/ansible_collections/$namespace/$name
mkdir -p "$dest"

# Files git would ship: tracked plus untracked-but-not-ignored; skip ones deleted in the tree.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$repo" && while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done) |
    (cd "$repo" && tar --null -T - -cf -) | tar -xf - -C "$dest"

# ansible-test sees a plain directory (no .git) and lists every file in it; give it a git
# repository instead so its file listing matches what is shipped.
(cd "$dest" && git init -q && git add -A >/dev/null 2>&1 && \
    git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity --no-gpg-sign) \
    || echo "sanity: git init of the temporary copy failed; ansible-test will walk the directory" >&2

# Tests that cannot run on this machine, each with the reason. Keep this list short and exact.
skips=()
skip() { skips+=(--skip-test "$1"); echo "sanity: skipping $1: $2"; }
if ! command -v shellcheck >/dev/null 2>&1; then
    skip shellcheck "the shellcheck binary is not installed (apt-get install shellcheck)"
fi
if ! command -v pwsh >/dev/null 2>&1; then
    skip pslint "PowerShell (pwsh) is not installed and the collection ships no PowerShell"
fi

# The modules and module_utils are what sanity is about here; other sanity tests (yamllint on
# docs, changelog, ignores, ...) still run on whatever ansible-test selects for these targets.
# SANITY_TARGETS (space-separated paths) narrows the run, e.g. to one module while iterating.
read -r -a targets <<<"${SANITY_TARGETS:-plugins/}"

cd "$dest"
export ANSIBLE_COLLECTIONS_PATH=$work${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}
# Dependencies (ansible.posix, kubernetes.core, ...) from the repo's own collections path.
if [[ -d $repo/.collections/ansible_collections ]]; then
    ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH:$repo/.collections
fi

echo "sanity: ansible-test sanity $mode --python $python_version ${skips[*]} ${targets[*]} $*"
set +e
timeout --kill-after=30 "$timeout_s" "$ansible_test" sanity "$mode" --python "$python_version" \
    --color no "${skips[@]}" "$@" "${targets[@]}"
rc=$?
set -e
if [[ $rc == 124 ]]; then
    echo "sanity: ansible-test timed out after ${timeout_s}s" >&2
fi
exit $rc
