#!/usr/bin/env bash
# Installs the real browser the console's browser tests drive: Debian's chromium (playwright-core launches it by
# path, /usr/bin/chromium) and a font so pages render text. Idempotent: does nothing when chromium is present.
# Needs root (CI containers run as root) and access to the Debian mirror.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) is already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-browser: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
[ -x /usr/bin/chromium ] || { echo "install-browser: /usr/bin/chromium missing after install" >&2; exit 1; }
echo "install-browser: installed $(/usr/bin/chromium --version)"
