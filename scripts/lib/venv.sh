# Shared bootstrap for scripts/dev and scripts/test: a project virtualenv in .venv with the package
# installed in editable mode (scripts/dev: runtime dependencies only; scripts/test: plus the [dev] tool
# chain). Re-installs only when pyproject.toml changed (stamp file).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

find_python() {
  for candidate in "${AUTHLIB_PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Python 3.11 or newer is needed; set AUTHLIB_PYTHON to its path" >&2
  return 1
}

# ensure_venv [EXTRAS]: "dev" (scripts/test: the test tool chain) or "" (scripts/dev: the runtime package only).
# A venv that already has the dev extras also serves a runtime-only request (they are a superset).
ensure_venv() {
  local extras="${1-dev}"
  local stamp="$VENV/.authlib-stamp"
  local hash want have=""
  hash="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  want="$hash-$extras"
  if [ ! -x "$PY" ]; then
    local base
    base="$(find_python)"
    echo "==> creating virtualenv .venv with $base"
    "$base" -m venv "$VENV"
  fi
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  if [ "$have" = "$want" ] || { [ -z "$extras" ] && [ "${have%-*}" = "$hash" ]; }; then
    return 0
  fi
  local spec="$ROOT"
  [ -n "$extras" ] && spec="$ROOT[$extras]"
  echo "==> installing authlib-core${extras:+[$extras]} into .venv"
  "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  "$PY" -m pip install --quiet --disable-pip-version-check -e "$spec"
  echo "$want" > "$stamp"
}
