# Headless Chromium for the browser tests: Debian's `chromium` package, never a browser download.
# Source this file, then call ensure_chromium. Installs only when /usr/bin/chromium is missing.
# shellcheck shell=bash

CHROMIUM_BIN="${AUTHLIB_CHROMIUM:-/usr/bin/chromium}"

ensure_chromium() {
  if [ -x "$CHROMIUM_BIN" ]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $CHROMIUM_BIN is missing and apt-get is not available; install Chromium and set AUTHLIB_CHROMIUM" >&2
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "==> installing Debian's chromium package (for the browser tests)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
  "$CHROMIUM_BIN" --version
}
