# AI Infrastructure Engineer curriculum -- reference solutions monorepo.
#   make help                  list targets
#   make setup                 install uv + system packages the tests need (idempotent)
#   make test-all              run every test suite, summary + reports/
#   make test EX=110-02        one exercise (code or folder path)
.DEFAULT_GOAL := help
SHELL := /bin/bash
EX ?=
SUBMISSION ?=
OUT ?=
PKG ?=
# Bytecode caches matter: without them each test process recompiles torch & co. from source.
unexport PYTHONDONTWRITEBYTECODE
AIINFRA = uv run --project shared --locked --quiet aiinfra
EX_DIR = $(if $(EX),$(shell $(AIINFRA) resolve "$(EX)" 2>/dev/null),)

.PHONY: help setup shared test-all test run bench lint grade starter list new check-ex

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'
	@echo "  EX=<code|path> selects an exercise, e.g. make test EX=110-02"

setup: ## install uv and the system packages the tests need (idempotent)
	@bash shared/scripts/setup.sh
	@$(MAKE) --no-print-directory shared

shared: ## create shared/.venv (tools used by the targets below)
	@cd shared && uv sync --locked --quiet

test-all: setup ## run every test suite (shared + exercises); writes reports/
	@$(AIINFRA) test-all

check-ex:
	@test -n "$(EX)" || { echo "error: set EX=<code|path>, e.g. EX=101-04 (see make list)" >&2; exit 2; }
	@test -n "$(EX_DIR)" || { $(AIINFRA) resolve "$(EX)"; exit 4; }

test: shared check-ex ## run one exercise's tests: make test EX=101-04
	@$(MAKE) --no-print-directory -C $(EX_DIR) test

run: shared check-ex ## run one exercise's demo: make run EX=101-04
	@$(MAKE) --no-print-directory -C $(EX_DIR) run

bench: shared check-ex ## run one exercise's benchmarks: make bench EX=101-04
	@$(MAKE) --no-print-directory -C $(EX_DIR) bench

list: shared ## list the exercises
	@$(AIINFRA) list

new: shared ## scaffold an exercise: make new EX=mod-101-foundations/exercise-04-x PKG=name
	@test -n "$(EX)" -a -n "$(PKG)" || { echo "error: set EX=<folder path> and PKG=<package>" >&2; exit 2; }
	@$(AIINFRA) new --path "$(EX)" --package "$(PKG)"

grade: shared check-ex ## grade a submission: make grade EX=101-04 SUBMISSION=<dir>
	@test -n "$(SUBMISSION)" || { echo "error: set SUBMISSION=<dir of the learner's exercise>" >&2; exit 2; }
	@uv run --project shared --locked --quiet aiinfra-grade --exercise "$(EX_DIR)" \
		--submission "$(SUBMISSION)"

starter: shared check-ex ## learner's starter kit: make starter EX=101-04 OUT=<new dir>
	@test -n "$(OUT)" || { echo "error: set OUT=<folder to create for the starter kit>" >&2; exit 2; }
	@$(AIINFRA) starter --exercise "$(EX_DIR)" --out "$(OUT)"

lint: shared ## ruff + mypy everywhere, hadolint, actionlint, shellcheck
	@bash shared/scripts/lint.sh
