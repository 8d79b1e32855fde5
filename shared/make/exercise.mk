# Common targets of every exercise: its Makefile sets a few variables, includes this file and
# adds only its own targets (at least `run`, the demo). Every target installs what it needs.
#
#   PACKAGE     package / CLI name (required; names the image)
#   LINT_PATHS  folders ruff checks        [src tests benchmarks]
#   MYPY_PATHS  folders mypy checks        [src]
#   IMAGE       image tag for make docker  [$(PACKAGE):dev]
#   DOCKERFILE  Dockerfile for make docker [Dockerfile]
#   PYTEST_ARGS extra pytest arguments     (make test-all passes --junitxml here)
#
# Example (an exercise's whole Makefile):
#   PACKAGE := envman
#   include ../../shared/make/exercise.mk
#   run: install ## demo: init -> create -> doctor on a sample project
#   	uv run --no-sync python examples/demo.py
ifndef PACKAGE
$(error set PACKAGE before including shared/make/exercise.mk)
endif
.DEFAULT_GOAL := help
REPO_ROOT ?= ../..
PYTEST_ARGS ?=
LINT_PATHS ?= src tests benchmarks
MYPY_PATHS ?= src
IMAGE ?= $(PACKAGE):dev
DOCKERFILE ?= Dockerfile
# Bytecode caches matter: without them each test process recompiles torch & co. from source.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help install run test bench lint docker

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: ## create .venv from uv.lock
	uv sync --locked --quiet

test: install ## run the test suite
	uv run --no-sync pytest $(PYTEST_ARGS)

bench: install ## run the benchmarks, write benchmarks/results.json and the README table
	uv run --no-sync python benchmarks/run.py

lint: install ## ruff + mypy
	uv run --no-sync ruff check $(LINT_PATHS)
	uv run --no-sync mypy --config-file $(REPO_ROOT)/pyproject.toml $(MYPY_PATHS)

docker: ## build the image (context: repository root, for shared/)
	docker build -f $(DOCKERFILE) -t $(IMAGE) $(REPO_ROOT)
