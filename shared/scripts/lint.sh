#!/usr/bin/env bash
# make lint: ruff + mypy (shared and every exercise), hadolint, actionlint, shellcheck.
# Runs every check and fails at the end if any failed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 2
bin="$root/shared/.venv/bin"
status=0
step() { printf '\n== %s\n' "$*"; }
run() { "$@" || status=1; }

step "ruff (shared)";  run "$bin/ruff" check shared
step "mypy (shared)";  run "$bin/mypy" --config-file pyproject.toml shared/src
for ex in mod-*/exercise-*/; do
  [[ -f "$ex/pyproject.toml" ]] || continue
  step "lint $ex"; run make --no-print-directory -C "$ex" lint
done
mapfile -t dockerfiles < <(git ls-files '*Dockerfile*' | grep -v '/templates/' | grep -v dockerignore)
step "hadolint (${#dockerfiles[@]} Dockerfiles)"
((${#dockerfiles[@]})) && run "$bin/hadolint" "${dockerfiles[@]}"
step "actionlint"; run "$bin/actionlint" .github/workflows/*.yml
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
step "shellcheck (${#scripts[@]} scripts)"; run "$bin/shellcheck" "${scripts[@]}"
if ((status)); then printf '\nlint: FAILED\n'; else printf '\nlint: ok\n'; fi
exit $status
