# Builds the example page (examples/web) that the dev server serves at `/`.
# Source this file, then call `ensure_web_build [PORT]`. It runs
#   - `npm ci`, only when node_modules is missing or package-lock.json changed since the last install;
#   - `npm run build`, only when a build input is newer than the last build (or dist/ is missing);
# then prints the URL to open (PORT defaults to 3210). It fails (non-zero) when either step fails,
# leaving that step's stamp untouched so the next call retries. Needs Node.js (>= 20.19) and npm.
# shellcheck shell=bash

WEB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WEB_DIR="$WEB_ROOT/examples/web"

_web_sources_newer_than() {
  # true when any build input is newer than the given stamp file
  local stamp="$1"
  [ -n "$(find "$WEB_DIR/src" "$WEB_DIR/index.html" "$WEB_DIR/vite.config.js" "$WEB_DIR/tsconfig.json" "$WEB_DIR/package.json" \
            "$WEB_DIR/package-lock.json" "$WEB_DIR/public" \
            -newer "$stamp" -type f -print -quit 2>/dev/null)" ]
}

ensure_web_build() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is needed to build examples/web (Node.js >= 20.19)" >&2
    return 1
  fi
  local install_stamp="$WEB_DIR/node_modules/.authlib-lock-sha256"
  local build_stamp="$WEB_DIR/dist/.authlib-built"
  local lock_sha
  lock_sha="$(sha256sum "$WEB_DIR/package-lock.json" | cut -d' ' -f1)"

  if [ ! -d "$WEB_DIR/node_modules" ] || [ ! -f "$install_stamp" ] || [ "$(cat "$install_stamp")" != "$lock_sha" ]; then
    echo "==> npm ci (examples/web)"
    # --ignore-scripts: nothing the page needs has an install step (esbuild's, pulled in by the
    # convex CLI, only checks its own binary, which the browser bundle never uses).
    (cd "$WEB_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1
    echo "$lock_sha" > "$install_stamp"
  fi

  if [ ! -f "$build_stamp" ] || [ ! -f "$WEB_DIR/dist/index.html" ] || _web_sources_newer_than "$build_stamp"; then
    echo "==> building examples/web (vite build)"
    (cd "$WEB_DIR" && npm run --silent build -- --logLevel warn) || return 1
    touch "$build_stamp"
  fi
  web_url_hint "${1:-3210}"
}

# The hint scripts/dev prints once the build is ready; pass the port the server will listen on.
web_url_hint() {
  local port="${1:-3210}"
  echo "==> open http://127.0.0.1:${port}/ (the example page; API under /api on the same origin)"
}
