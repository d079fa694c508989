# Sofia Health Checkout: the single entry point. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := backend/.venv
PY := $(VENV)/bin/python
BACKEND_STAMP := $(VENV)/.installed
FRONTEND_STAMP := frontend/node_modules/.installed

.PHONY: help setup run test lint fmt typecheck schema check-schema check-migrations \
        test-backend test-backend-postgres test-frontend e2e bench system-deps

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

$(BACKEND_STAMP): backend/requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r backend/requirements-dev.txt
	touch $@

$(FRONTEND_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

setup: $(BACKEND_STAMP) $(FRONTEND_STAMP) ## Install Python and Node dependencies (pinned)

system-deps: ## Install Chromium, nginx, docker-compose, PostgreSQL, Redis, wrk, podman (+ podman-compose, mmdebstrap) if missing (root)
	bash scripts/install-system-deps.sh

run: setup ## Start backend :8000, provider sandbox :8100, the SPA :5173 and the reconcile loop (no keys needed)
	@echo ""
	@echo "  Checkout (open this):   http://127.0.0.1:5173"
	@echo "  API:                    http://127.0.0.1:8000/api/  (docs: /api/docs/)"
	@echo "  Provider sandbox:       http://127.0.0.1:8100/_sandbox/sessions"
	@echo "  Emails sent (sandbox):  http://127.0.0.1:8100/_sandbox/emails"
	@echo ""
	cd backend && DJANGO_DEBUG=1 .venv/bin/python manage.py migrate --noinput  # before the reconcile loop reads
	$(VENV)/bin/honcho -f Procfile start

lint: $(BACKEND_STAMP) $(FRONTEND_STAMP) ## ruff (lint + format check), import contracts, eslint
	cd backend && .venv/bin/ruff check . ../bench ../scripts && .venv/bin/ruff format --check . ../bench ../scripts
	cd backend && .venv/bin/lint-imports
	bash scripts/check-provider-boundary.sh
	cd frontend && npm run lint

fmt: $(BACKEND_STAMP) ## Format Python code
	cd backend && .venv/bin/ruff check --fix . && .venv/bin/ruff format .

typecheck: $(BACKEND_STAMP) $(FRONTEND_STAMP) ## mypy (strict, django-stubs) and tsc
	cd backend && .venv/bin/mypy sofia_checkout config provider_sandbox
	cd frontend && npm run typecheck

schema: $(BACKEND_STAMP) ## Regenerate the committed OpenAPI schema
	cd backend && DJANGO_SETTINGS_MODULE=config.test_settings .venv/bin/python manage.py spectacular --validate --fail-on-warn --file schema.yaml

check-schema: $(BACKEND_STAMP) ## Fail if the committed OpenAPI schema drifted from the code
	cd backend && DJANGO_SETTINGS_MODULE=config.test_settings .venv/bin/python manage.py spectacular --validate --fail-on-warn --file /tmp/sofia-schema.yaml
	diff -u backend/schema.yaml /tmp/sofia-schema.yaml || (echo "schema.yaml is stale: run make schema" && exit 1)

check-migrations: $(BACKEND_STAMP) ## Fail if models changed without a migration
	cd backend && DJANGO_SETTINGS_MODULE=config.test_settings .venv/bin/python manage.py makemigrations --check --dry-run

test-backend: $(BACKEND_STAMP) ## Backend, sandbox, contract, deploy and fuzz tests on SQLite; two replicas on PostgreSQL + Redis
	cd backend && .venv/bin/pytest -q

test-backend-postgres: $(BACKEND_STAMP) ## The backend suite again on PostgreSQL (real row locks)
	url=$$(bash scripts/ensure-postgres.sh); \
	cd backend && DATABASE_URL=$$url .venv/bin/pytest -q sofia_checkout tests --ignore=tests/deploy --ignore=tests/scale

test-frontend: $(FRONTEND_STAMP) check-client ## Generated API layer up to date, ESLint, tsc, Vitest, production build
	cd frontend && npm run check && npm run build
	bash scripts/check-bundle-secrets.sh frontend/dist

.PHONY: client check-client
client: $(FRONTEND_STAMP) ## Regenerate the SPA's API types + zod schemas (frontend/src/lib/api/generated) from backend/schema.yaml
	cd frontend && npm run --silent client

check-client: $(FRONTEND_STAMP) ## Fail if the SPA's generated API layer drifted from backend/schema.yaml
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd frontend && \
	API_CLIENT_OUTPUT=$$tmp npm run --silent client >/dev/null && \
	{ diff -ru src/lib/api/generated "$$tmp" || { echo "frontend/src/lib/api/generated is stale: run make client"; exit 1; }; }

e2e: $(BACKEND_STAMP) $(FRONTEND_STAMP) ## Playwright in Chromium against backend + sandbox + built SPA
	cd frontend && npm run e2e

.PHONY: compose-smoke
compose-smoke: system-deps ## docker-compose.yml for real under podman: both images built, both payments through nginx (root)
	bash scripts/compose-smoke.sh

test: system-deps setup lint typecheck check-migrations check-schema test-backend test-backend-postgres test-frontend e2e compose-smoke ## Everything CI runs
	@echo "make test: all checks passed"

bench: $(BACKEND_STAMP) $(FRONTEND_STAMP) ## Benchmarks (print figures); last, the issue-13 table over HTTP (PostgreSQL, Redis, wrk)
	cd backend && .venv/bin/python ../bench/payment_session_bench.py
	cd backend && .venv/bin/python ../bench/sandbox_roundtrip_bench.py
	cd backend && .venv/bin/python ../bench/availability_bench.py
	cd backend && .venv/bin/python ../bench/rate_limit_bench.py
	cd backend && .venv/bin/python ../bench/http_bench.py
