#!/usr/bin/env bash
# Install what the test suites need: uv and the Debian packages in shared/apt-packages.txt.
# Idempotent and quick when everything is present. Works as root or through sudo.
# On macOS it prints the Homebrew equivalents instead.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
apt_list="$here/../apt-packages.txt"

say() { printf 'setup: %s\n' "$*"; }

if [[ "$(uname -s)" == "Darwin" ]]; then
  say "macOS detected: install these with Homebrew, then rerun make setup:"
  echo "  brew install uv postgresql@15 prometheus alertmanager pushgateway node_exporter"
  echo "  brew install skopeo distribution   # distribution provides the OCI registry"
  echo "  (umoci and buildah are Linux-only: the tests that need them skip with a hint)"
  command -v uv >/dev/null || exit 1
  exit 0
fi

# --- uv -----------------------------------------------------------------------------------
if ! command -v uv >/dev/null 2>&1; then
  say "installing uv with pip"
  if python3 -m pip install --quiet --disable-pip-version-check uv 2>/dev/null; then :
  else python3 -m pip install --quiet --user --break-system-packages uv; fi
  hash -r
  command -v pyenv >/dev/null 2>&1 && pyenv rehash 2>/dev/null
  if ! command -v uv >/dev/null 2>&1; then
    user_bin=$(python3 -c 'import site; print(site.USER_BASE)')/bin
    say "uv installed into $user_bin: add it to PATH and rerun"
    exit 1
  fi
fi
say "uv $(uv --version | cut -d' ' -f2)"

# --- Debian packages ----------------------------------------------------------------------
if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get: install the packages in $apt_list with your package manager"
  exit 0
fi
missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done <"$apt_list"
if ((${#missing[@]} == 0)); then
  say "system packages present"
  exit 0
fi
if [[ $EUID -eq 0 ]]; then sudo=()
elif command -v sudo >/dev/null 2>&1; then sudo=(sudo)
else
  say "need root or sudo to install: ${missing[*]}"
  exit 1
fi
say "installing: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
say "system packages installed"
