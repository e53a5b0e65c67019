# SAM CLI in its own virtualenv (.venv-sam), never in the project venv: aws-sam-cli pins boto3[crt]
# and cfn-lint, and sharing a venv makes pip backtrack to an old SAM CLI.
# Installs once; re-installs only when the pins below change (stamp file).
# Usage: source scripts/lib/sam.sh && ensure_sam_venv
# shellcheck shell=bash

AUTHLIB_SAM_CLI_VERSION="1.170.0"
# cfn-lint >= 1.54 no longer expands SAM templates itself; we expand with infra/sam_to_cfn.py
# (aws-sam-translator from this venv) and lint the CloudFormation JSON with this pinned cfn-lint.
AUTHLIB_CFN_LINT_VERSION="1.58.0"

_SAM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export AUTHLIB_SAM_VENV="${AUTHLIB_SAM_VENV:-$_SAM_ROOT/.venv-sam}"

# The Lambda runtime's interpreter (python3.13) for building .pyc files and running the built
# artifact: PATH first, then pyenv's versions folder (pyenv shims refuse a non-global version).
find_lambda_python() {
  local candidate
  for candidate in "${AUTHLIB_LAMBDA_PYTHON:-}" python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  echo "error: python3.13 (the Lambda runtime's version) was not found; set AUTHLIB_LAMBDA_PYTHON" >&2
  return 1
}

_sam_base_python() {
  local candidate
  for candidate in "${AUTHLIB_SAM_PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 13) else 1)' >/dev/null 2>&1; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: no Python 3.9-3.13 for the SAM CLI virtualenv; set AUTHLIB_SAM_PYTHON" >&2
  return 1
}

ensure_sam_venv() {
  local venv="$AUTHLIB_SAM_VENV"
  local stamp="$venv/.authlib-sam-stamp"
  local want="aws-sam-cli==$AUTHLIB_SAM_CLI_VERSION cfn-lint==$AUTHLIB_CFN_LINT_VERSION"
  export SAM_CLI_TELEMETRY=0
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/sam" ]; then
    :
  else
    local base
    base="$(_sam_base_python)" || return 1
    echo "==> creating the SAM CLI virtualenv ${venv#"$_SAM_ROOT"/} ($want)"
    rm -rf "$venv"
    "$base" -m venv "$venv"
    local log="$venv/install.log"
    # shellcheck disable=SC2086  # $want is two requirement specifiers
    if ! { "$venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
           "$venv/bin/python" -m pip install --disable-pip-version-check $want; } >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      echo "error: installing $want into $venv failed (full log: $log)" >&2
      return 1
    fi
    echo "$want" > "$stamp"
  fi
  if [ -z "${AUTHLIB_LAMBDA_PYTHON:-}" ]; then
    AUTHLIB_LAMBDA_PYTHON="$(find_lambda_python)" || return 1
  fi
  export AUTHLIB_LAMBDA_PYTHON
}
