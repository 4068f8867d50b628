# CreatorFlow. The two commands a new user needs are `make run` and
# `make test`; both start the local stack (deploy/local) when it is not up.

SHELL      := /bin/bash
GO         ?= go
BIN        := bin/creatorflow
PKGS       := ./...
# Fuzz budget per target. A count of executions, not a duration: Go 1.26's
# fuzz coordinator can fail a duration-bounded run with a spurious "context
# deadline exceeded" at the boundary (go.dev/issue/75804).
FUZZTIME   ?= 20000x

# Local development credentials of the TikTok app whose webhooks `make run`
# accepts; real deployments set their own (see README).
export CREATORFLOW_TIKTOK_APP_KEY    ?= local-app
export CREATORFLOW_TIKTOK_APP_SECRET ?= local-secret
export CREATORFLOW_CARRIER_SECRETS   ?= usps=local-usps,ups=local-ups,fedex=local-fedex

.PHONY: all build up down status setup run test vet fmt-check fuzz bench bench-ingest bench-runtime bench-viral eval-viral clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/creatorflow

## Local stack: embedded broker, ClickHouse, PostgreSQL (data in .data/).
up: build
	deploy/local/stack.sh up

down:
	deploy/local/stack.sh down

status:
	deploy/local/stack.sh status

## Topics, schemas and the demo catalog on the local stack (idempotent).
setup: up
	$(BIN) topics apply
	$(BIN) migrate
	$(BIN) catalog import --file deploy/local/catalog.json

## The whole pipeline on the local stack, in the foreground (Ctrl-C stops it),
## with the sandbox of the outside APIs (TikTok Shop) beside it.
run: setup
	@$(BIN) sandbox & sandbox=$$!; trap 'kill $$sandbox 2>/dev/null; wait $$sandbox' EXIT; \
	  $(BIN) run --rate-cards 'deploy/ratecards/*.json'

## Unit and integration tests against the real broker, ClickHouse and PostgreSQL.
test: up vet fmt-check
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)
	CREATORFLOW_TEST_STACK=require $(GO) test -race -count=1 -timeout 15m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@files=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*')); \
	if [ -n "$$files" ]; then echo "gofmt needed: $$files"; exit 1; fi

## Every fuzz target for FUZZTIME each (make fuzz FUZZTIME=2000000x for a long run).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	    out=$$($(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) 2>&1) || \
	      { echo "$$out"; echo "FAIL fuzz $$pkg $$target (the failing input is saved under testdata/fuzz)"; exit 1; }; \
	  done; \
	done

## Benchmarks (see docs/benchmarks.md). bench-ingest runs its own in-memory broker.
bench: bench-ingest
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-ingest: build
	deploy/bench/ingest.sh

## Runtime: windowed count exactly-once and at-least-once against raw franz-go
## consume->produce, 300k records each, three interleaved rounds (so drift on
## the shared machine hits all alike), and the restore of a 1M-key store.
bench-runtime: up
	for round in 1 2 3; do \
	  CREATORFLOW_BENCH_RUNTIME=1 CREATORFLOW_TEST_STACK=require $(GO) test ./pipeline/stream/ -run '^$$' \
	    -bench 'Runtime(WindowedCount|Raw)' -benchtime 1200000x || exit 1; \
	done
	CREATORFLOW_BENCH_RUNTIME=1 CREATORFLOW_TEST_STACK=require $(GO) test ./pipeline/stream/ -run '^$$' \
	  -bench 'RuntimeRestore1MKeys' -benchtime 1x -timeout 20m

bench-viral: up
	for round in 1 2 3; do \
	  CREATORFLOW_BENCH_VIRAL=1 CREATORFLOW_TEST_STACK=require $(GO) test ./processors/velocity/ -run '^$$' \
	    -bench 'VelocityExactlyOnce' -benchtime 400000x || exit 1; \
	done

# Viral detection and stock protection against labelled scenarios (3 x 600 items;
# seeds the detector was not tuned on).
eval-viral: build
	$(BIN) scenario eval --seeds 4,5,6

clean:
	rm -rf bin
