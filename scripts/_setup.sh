# Shared by scripts/run, scripts/test and scripts/lock: the pinned uv, and a .venv that matches
# uv.lock exactly, made by the chosen Python.
#
# Both of these first check that uv.lock matches pyproject.toml (else: run `bash scripts/lock`).
#   source scripts/_setup.sh run    # the portal's dependencies
#   source scripts/_setup.sh test   # plus the test tools (pytest, playwright, ruff…)
#   source scripts/_setup.sh uv     # only the pinned uv, in $UV
#
# PYTHON picks the interpreter (default python3.11; 3.11, 3.12 and 3.13 are supported). uv never
# downloads a Python. A .venv made by another Python, from another uv.lock or by hand (including a
# link to a shared environment, whose target is left alone) is replaced without a manual step.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
UV_VERSION=0.13.9  # also in pyproject.toml ([tool.uv] required-version) and scripts/uv-requirements.txt
export UV_PYTHON_DOWNLOADS=never
unset VIRTUAL_ENV  # an activated environment elsewhere is not this project's .venv
if [ -n "${CI:-}" ]; then export UV_NO_PROGRESS=1; fi  # no progress bars in CI logs
# Where Python may not cache bytecode, every command would compile ~1,000 modules again at start:
# compile them once at install instead.
if [ -n "${PYTHONDONTWRITEBYTECODE:-}" ]; then export UV_COMPILE_BYTECODE=1; fi

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --------------------------------------------------------------------------- the interpreter
PYTHON="${PYTHON:-python3.11}"
if ! command -v "$PYTHON" >/dev/null; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    command -v "$candidate" >/dev/null && { PYTHON=$candidate; break; }
  done
fi
# The real interpreter (not a pyenv shim) and its version, e.g. "/usr/bin/python3.11 3.11.2".
PY_ID="$("$PYTHON" -c 'import os, sys; print(os.path.realpath(sys.executable), "%d.%d.%d" % sys.version_info[:3])')"
case "${PY_ID##* }" in
  3.11.* | 3.12.* | 3.13.*) ;;
  *) echo "Python ${PY_ID##* } ($PYTHON) is not supported: install Python 3.11, 3.12 or 3.13 and set PYTHON=python3.1x." >&2
     exit 1 ;;
esac
export UV_PYTHON="${PY_ID% *}"

# --------------------------------------------------------------------------- uv, pinned and hash-checked
# On PATH when it is the pinned version; otherwise installed once per machine (a few seconds) into
# the user's cache from scripts/uv-requirements.txt, whose hashes pip checks.
if command -v uv >/dev/null && [ "$(uv --version 2>/dev/null | cut -d' ' -f2)" = "$UV_VERSION" ]; then
  UV="$(command -v uv)"
else
  tools="${XDG_CACHE_HOME:-$HOME/.cache}/reseller-portal/uv-$UV_VERSION"
  UV="$tools/bin/uv"  # the wheel's binary, independent of the interpreter
  if [ ! -x "$UV" ]; then
    step "Installing uv $UV_VERSION (once per machine) into $tools"
    rm -rf "$tools.partial"
    # pip's own configuration files (local mirrors, find-links) play no part: PyPI, and the hashes.
    pip_install=(-m pip install --isolated --quiet --disable-pip-version-check --root-user-action=ignore
      --require-hashes --only-binary=:all: -r scripts/uv-requirements.txt)
    if "$PYTHON" -m pip --version >/dev/null 2>&1; then
      PIP_CONFIG_FILE=/dev/null "$PYTHON" "${pip_install[@]}" --target "$tools.partial"
    else  # an interpreter without pip: a throw-away venv brings one
      "$PYTHON" -m venv "$tools.partial/venv"
      PIP_CONFIG_FILE=/dev/null "$tools.partial/venv/bin/python" "${pip_install[@]}" --target "$tools.partial"
      rm -rf "$tools.partial/venv"
    fi
    rm -rf "$tools" && mv "$tools.partial" "$tools"
  fi
fi
export UV

# --------------------------------------------------------------------------- the project's .venv
portal_lock_check() {
  # uv asks the project's .venv for its Python even here; a broken one (rebuilt next) must not
  # fail the check, so it is pointed at an environment that does not exist (and is not created).
  local check=(env UV_PROJECT_ENVIRONMENT="$ROOT/.venv-absent-for-lock-check" "$UV" lock --check)
  if ! "${check[@]}" --offline >/dev/null 2>&1 && ! "${check[@]}" >/dev/null 2>&1; then
    echo "uv.lock does not match pyproject.toml: run 'bash scripts/lock' and commit uv.lock." >&2
    return 1
  fi
}

portal_venv() {  # $1: run | test
  local mode="$1" want target
  want="$(cat uv.lock pyproject.toml | sha256sum | cut -c1-16) $PY_ID"
  stamp_ok() {  # $1: a venv folder
    local line
    line="$(cat "$1/.portal-stamp" 2>/dev/null)" || return 1
    [ "$line" = "$want test" ] || { [ "$mode" = run ] && [ "$line" = "$want run" ]; }
  }
  if [ -L .venv ]; then
    target="$(readlink -f .venv || true)"
    if stamp_ok .venv; then return 0; fi
    # A link to an environment made elsewhere (a shared one): never touch its target, only the link.
    step "Replacing the link .venv -> $target (made elsewhere, not from this uv.lock) with a real .venv"
    rm .venv
  fi
  if stamp_ok .venv; then return 0; fi
  if [ -e .venv ] && [ "$(.venv/bin/python -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null)" != "$UV_PYTHON" ]; then
    step "Rebuilding .venv: it was made by another Python (want ${PY_ID##* } at $UV_PYTHON)"
    rm -rf .venv
  fi
  rm -f .venv/.portal-stamp
  step "Installing the locked dependencies (uv.lock) into .venv with Python ${PY_ID##* }"
  local extras=()
  [ "$mode" = test ] && extras=(--extra test)
  # --frozen: exactly what uv.lock says (checked above against pyproject.toml); packages that the
  # lock does not name are removed.
  "$UV" sync --frozen "${extras[@]}" --python "$UV_PYTHON"
  echo "$want $mode" >.venv/.portal-stamp
}

case "${1:-run}" in
  uv) ;;
  # A dependency added to pyproject.toml but not locked would be missing: say so before installing.
  run | test) portal_lock_check || exit 1; portal_venv "$1" ;;
  *) echo "usage: source scripts/_setup.sh run|test|uv" >&2; exit 2 ;;
esac
