# flujo for Go. `make test` is what CI runs; `make demo` runs the main job on
# the embedded default configuration.

GO       ?= go
FLUJOGEN := $(GO) run ./cmd/flujogen
PROFILES := high-throughput memory-constrained latency-sensitive data-processing real-time-api batch-monitoring
NESTED   := contrib/otel contrib/prometheus contrib/redis examples/realtime/cmd/realtime bench
BENCHTIME ?= 1s
COUNT    ?= 5

.PHONY: all test vet unit nested check-generated demo demo-config demo-examples demo-distributed bench generate schema fmt

all: test

## test: everything CI must pass.
test: vet unit nested check-generated

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

nested:
	@for m in $(NESTED); do \
		if [ -f $$m/go.mod ]; then \
			echo "== $$m"; \
			(cd $$m && $(GO) vet ./... && $(GO) test -race -count=1 ./...) || exit 1; \
		fi; \
	done

## demo-distributed: two replicas of examples/realtime against a local
## redis-server (started and stopped by the demo): a shared cache hit and a
## shared breaker opening.
demo-distributed:
	@cd examples/realtime/cmd/realtime && $(GO) run . -demo-distributed

## check-generated: committed generated files are what the generators produce.
check-generated:
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	$(FLUJOGEN) schema > $$tmp && diff -u schema/flujo.schema.json $$tmp || { echo "schema/flujo.schema.json is stale: run make schema"; exit 1; }; \
	$(FLUJOGEN) schema -docs > $$tmp && diff -u docs/config.md $$tmp || { echo "docs/config.md is stale: run make schema"; exit 1; }; \
	$(FLUJOGEN) check ./examples/... || { echo "generated executors are stale: run make generate"; exit 1; }; \
	(cd bench && $(GO) tool flujogen check ./...) || { echo "bench's generated executors are stale: run make generate"; exit 1; }

## demo: the main job on the embedded defaults: validate and print the
## configuration and every profile, then run the example pipelines.
demo: demo-config demo-examples

demo-config:
	@echo "== default configuration (embedded defaults)"
	@$(FLUJOGEN) init -o -
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	for p in $(PROFILES); do \
		echo "== profile $$p"; \
		$(FLUJOGEN) init -profile $$p -o $$tmp/$$p.json && \
		$(FLUJOGEN) validate $$tmp/$$p.json && cat $$tmp/$$p.json || exit 1; \
	done

demo-examples:
	@echo "== flujogen generate (examples' //go:generate lines; writes only what changed)"
	@$(GO) generate ./examples/...
	@echo "== examples/triage"
	@$(GO) run ./examples/triage
	@echo "== examples/etl"
	@$(GO) run ./examples/etl
	@echo "== examples/realtime"
	@cd examples/realtime/cmd/realtime && $(GO) run . -demo

## bench: side-by-side benchmarks against the peers, printed as one table.
bench:
	cd bench && $(GO) test -run '^$$' -bench . -benchmem -count $(COUNT) -benchtime $(BENCHTIME) ./... | tee bench.txt
	cd bench && $(GO) run ./cmd/benchtable < bench.txt

## generate: regenerate everything generated.
generate: schema
	$(GO) generate ./...
	cd bench && $(GO) generate ./...

## schema: regenerate the committed JSON Schema and the configuration reference.
schema:
	$(FLUJOGEN) schema > schema/flujo.schema.json.tmp && mv schema/flujo.schema.json.tmp schema/flujo.schema.json
	$(FLUJOGEN) schema -docs > docs/config.md.tmp && mv docs/config.md.tmp docs/config.md

fmt:
	gofmt -w $$(git ls-files '*.go')
