# The README's two commands are `make run` and `make test`; every target installs what it needs.
SHELL := /bin/bash
NODE_MODULES := node_modules/.install-stamp
CLI := node dist/src/cli/main.js
SPECS := 'src/**/*.spec.ts' 'gateway/**/*.spec.ts' 'agent/**/*.spec.ts' 'test/**/*.spec.ts'

.PHONY: run test build install uninstall proto docker test-image bench clean

run: build docker
	$(CLI) dev

# The Docker engine, nginx and openssl are installed (as root on Debian) when missing.
test: proto $(NODE_MODULES)
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

# Regenerates src/gen from proto/ (buf runs offline: google/api comes from protobufjs).
proto: $(NODE_MODULES)
	npx buf lint
	npx buf generate

docker:
	bash scripts/ensure-docker.sh

test-image: docker
	bash scripts/build-test-image.sh

bench: build test-image
	node dist/bench/run.js

clean:
	rm -rf dist

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@
