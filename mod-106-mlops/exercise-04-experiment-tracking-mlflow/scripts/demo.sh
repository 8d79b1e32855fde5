#!/usr/bin/env bash
# `make run`: bring the stack up, train, register, promote (one rejected), print the
# leaderboard and the champion history, then stop the stack again.
set -euo pipefail
MLTRACK=(uv run --no-sync mltrack)
# A state dir of its own: the demo neither restores nor keeps the data of `mltrack server up`.
export MLTRACK_STATE_DIR="${MLTRACK_STATE_DIR:-.mltrack/demo}"
export MLTRACK_EXPERIMENT="${MLTRACK_EXPERIMENT:-breast-cancer}"
export MLTRACK_MODEL_NAME="${MLTRACK_MODEL_NAME:-cancer-classifier}"

version_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }

"${MLTRACK[@]}" server up
if [[ "${KEEP_STACK:-0}" != "1" ]]; then
  trap '"${MLTRACK[@]}" server down --purge' EXIT
fi
"${MLTRACK[@]}" server status

echo "== train: a baseline, a deliberately weak model, a good one, a tiny PyTorch MLP"
v1=$("${MLTRACK[@]}" train sklearn --alpha 0.2 --eta0 0.001 --epochs 2 --run-name baseline --json | version_of)
v2=$("${MLTRACK[@]}" train sklearn --alpha 10 --epochs 5 --run-name over-regularised --json | version_of)
v3=$("${MLTRACK[@]}" train sklearn --alpha 0.0001 --epochs 20 --run-name tuned --json | version_of)
"${MLTRACK[@]}" train torch --hidden 8 --epochs 15
"${MLTRACK[@]}" search --alpha 0.0001 --alpha 0.01 --eta0 0.01 --epochs 10 --no-register

echo "== promote v${v1} (first champion), v${v2} (must be rejected), v${v3} (better)"
"${MLTRACK[@]}" promote "$MLTRACK_MODEL_NAME" --candidate "$v1" --reason "first release"
if "${MLTRACK[@]}" promote "$MLTRACK_MODEL_NAME" --candidate "$v2"; then
  echo "expected the gate to reject v${v2}" >&2
  exit 1
fi
"${MLTRACK[@]}" promote "$MLTRACK_MODEL_NAME" --candidate "$v3" --reason "tuned model"
"${MLTRACK[@]}" predict "$MLTRACK_MODEL_NAME" --alias champion --rows 8
"${MLTRACK[@]}" rollback "$MLTRACK_MODEL_NAME" --reason "demo: restore the previous champion"

echo "== leaderboard, versions, champion history, audit log, report"
"${MLTRACK[@]}" leaderboard "$MLTRACK_EXPERIMENT" --limit 8
"${MLTRACK[@]}" versions "$MLTRACK_MODEL_NAME"
"${MLTRACK[@]}" history "$MLTRACK_MODEL_NAME"
"${MLTRACK[@]}" audit --model "$MLTRACK_MODEL_NAME"
"${MLTRACK[@]}" report "$MLTRACK_EXPERIMENT" --output "$MLTRACK_STATE_DIR/report.html"
