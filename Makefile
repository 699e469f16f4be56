# The README's two commands are `make run` and `make test`; every target installs what it needs.
SHELL := /bin/bash
NODE_MODULES := node_modules/.install-stamp
CLI := node dist/src/cli/main.js
SPECS := 'src/**/*.spec.ts' 'gateway/**/*.spec.ts' 'agent/**/*.spec.ts' 'test/**/*.spec.ts'

.PHONY: run test lint check-gen build install uninstall proto docker test-image bench clean

run: build docker
	$(CLI) dev $(ARGS)

# The Docker engine, nginx and openssl are installed (as root on Debian) when missing.
test: check-gen lint $(NODE_MODULES)
	bash scripts/ensure-docker.sh
	bash scripts/ensure-test-tools.sh
	npx tsc --noEmit -p tsconfig.json
	npx mocha $(SPECS)

# dist/meshexec.binpb is the proto descriptor set: the router's reflection serves it, Envoy's transcoder reads it.
build: $(NODE_MODULES)
	npm run --silent build

# Puts meshexec on the PATH: a symlink $(PREFIX)/bin/meshexec to this checkout's dist/src/cli/main.js.
PREFIX ?= /usr/local
install: build
	PREFIX=$(PREFIX) bash scripts/install-cli.sh

uninstall:
	rm -f $(PREFIX)/bin/meshexec

# The boundaries of docs/ARCHITECTURE.md as import rules, and a few likely bugs (eslint.config.js); then the
# OpenAPI document the edge serves, against Redocly's recommended rules (redocly.yaml; offline, no telemetry).
lint: $(NODE_MODULES)
	npx eslint --cache --cache-location dist/.eslintcache .
	npx prettier --check --cache --cache-location dist/.prettiercache .
	npx tsx scripts/write-openapi.ts dist/openapi.json
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx redocly lint dist/openapi.json

# src/gen is never edited by hand: it must be exactly what proto/ generates. It is generated aside and compared,
# so a hand edit is reported, not overwritten, and uncommitted work on proto/ passes once `make proto` has run.
check-gen: $(NODE_MODULES)
	npx buf lint
	@generated=$$(mktemp -d); trap 'rm -rf "$$generated"' EXIT; \
	npx buf generate -o "$$generated" || exit 1; \
	diff -r "$$generated/src/gen" src/gen || { echo "src/gen is not what proto/ generates: never edit it by hand; run make proto and commit src/gen" >&2; exit 1; }

# Regenerates src/gen from proto/ (buf runs offline: google/api comes from protobufjs).
proto: $(NODE_MODULES)
	npx buf lint
	npx buf generate

docker:
	bash scripts/ensure-docker.sh

test-image: docker
	bash scripts/build-test-image.sh

bench: build test-image
	bash scripts/ensure-test-tools.sh
	node dist/bench/run.js

clean:
	rm -rf dist

# npm ci empties node_modules first: through a link (a git worktree sharing another checkout's) it would empty theirs.
$(NODE_MODULES): package.json package-lock.json
	@if [ -L node_modules ]; then echo "node_modules links to $$(readlink node_modules): install there, then touch $@" >&2; exit 1; fi
	npm ci --no-audit --no-fund
	touch $@
