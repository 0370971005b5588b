# storeline — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/storeline
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/storeline/storeline/cli.Version=$(VERSION)

.PHONY: all build run test test-unit bench lint fmt generate schemas-release testenv-up testenv-down clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/storeline

## run: build and start everything on the embedded defaults (Kafka, PostgreSQL, warehouse under .storeline/)
run: build
	./$(BIN) run

## test: unit tests, then the integration tier against real Apache Kafka (KRaft) and PostgreSQL,
## started (and stopped) by scripts/testenv
test: build
	@set -e; envfile=$$(scripts/testenv up); \
	  trap 'scripts/testenv down >/dev/null 2>&1 || true' EXIT; \
	  . "$$envfile"; \
	  $(GO) vet ./...; \
	  $(GO) test -count=1 -timeout 20m ./...

## test-unit: unit tests only (no services)
test-unit:
	$(GO) test -count=1 ./...

## bench: webhook intake vs raw franz-go produce on real Kafka (closed loop, and open loop at fixed
## offered loads), bulk JSONL parse (lines/s, peak memory at 100k and 1M lines), the dashboard API
## on a million orders at 2,000 requests/s (OrdersAPIAtFixedLoad: order lookup, filtered paginated
## list), the latency from an accepted webhook to the order visible over REST (WebhookToREST), and
## the Iceberg sink (SinkThroughput: 200,000 orders from topic to committed table beside a raw
## iceberg-go append of the same rows; SinkFreshness: produce → visible in a scan at 200/s with
## the default 10 s commit interval), and the other benchmarks. An op of a *FixedLoad benchmark
## is one offered request, and one of WebhookToREST one webhook offered at a fixed rate, so
## -benchtime is how long each load is offered; the reported run lasts about 1.2 × -benchtime
## (testing's estimate overshoots by a fifth): 8s gives ~10 s per load.
bench: build
	@set -e; envfile=$$(scripts/testenv up); \
	  trap 'scripts/testenv down >/dev/null 2>&1 || true' EXIT; \
	  . "$$envfile"; \
	  $(GO) test -count=1 -run '^$$' -bench . -skip 'FixedLoad|WebhookToREST|Rebuild|Sink' -benchtime 5s ./bench/...; \
	  $(GO) test -count=1 -run '^$$' -bench FixedLoad -benchtime 8s -timeout 30m ./bench/...; \
	  $(GO) test -count=1 -run '^$$' -bench WebhookToREST -benchtime 8s ./bench/...; \
	  $(GO) test -count=1 -run '^$$' -bench Rebuild -benchtime 1x -timeout 30m ./bench/...; \
	  $(GO) test -count=1 -run '^$$' -bench Sink -benchtime 1x -timeout 30m ./bench/...; \
	  $(GO) test -count=1 -run '^$$' -bench . -benchtime 2s ./events/

## generate: Go event types, the catalogue and schemas/README.md from the .avsc files
generate:
	$(GO) generate ./events

## schemas-release: record the event schemas that changed since the last release in
## schemas/released/ (the compatibility gate checks every change against them)
schemas-release: generate
	$(GO) run ./events/internal/eventgen -release

testenv-up:
	@scripts/testenv up

testenv-down:
	@scripts/testenv down

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
