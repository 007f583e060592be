# flujo for Go. `make test` is what CI runs; `make demo` runs the main job on
# the embedded default configuration.

GO       ?= go
FLUJOGEN := $(GO) run ./cmd/flujogen
PROFILES := high-throughput memory-constrained latency-sensitive data-processing real-time-api batch-monitoring
NESTED   := contrib/otel contrib/prometheus contrib/redis examples/realtime/cmd/realtime bench
BENCHTIME ?= 1s
COUNT    ?= 5

.PHONY: all test vet unit nested check-generated demo demo-config demo-generate demo-examples demo-lines demo-distributed bench generate schema fmt

all: test

## test: everything CI must pass.
test: vet unit nested check-generated demo-lines

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

## demo: the main job on the embedded defaults, about a screen a part: the
## configuration profiles, flujogen at work on a copy of a package, then the
## example pipelines, each on the ExecutorCore and on its generated executor.
## JSON=DIR also writes the full figures (the configuration files, and each
## example's OptimizationStats and recommendations) into DIR.
JSON ?=
demo: demo-config demo-generate demo-examples

demo-config:
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; mkdir $$tmp/files; \
	$(GO) tool flujogen init -o $$tmp/files/defaults.json >/dev/null || exit 1; \
	for p in $(PROFILES); do $(GO) tool flujogen init -profile $$p -o $$tmp/files/$$p.json >/dev/null || exit 1; done; \
	out=$$($(GO) tool flujogen validate $$tmp/files/*.json 2>&1) || { echo "$$out"; exit 1; }; \
	echo "== configuration: go tool flujogen init wrote the defaults and each profile; go tool flujogen validate: $$(echo "$$out" | grep -c ': ok$$') files ok"; \
	$(GO) run ./examples/internal/profiles $$tmp/files || exit 1; \
	if [ -n "$(JSON)" ]; then \
		mkdir -p "$(JSON)" && for f in $$tmp/files/*.json; do cp $$f "$(JSON)/config-$${f##*/}"; done; \
	fi

## demo-lines: make demo fits a few screens: at most DEMO_LINES lines.
DEMO_LINES := 150
demo-lines:
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	$(MAKE) --no-print-directory -s demo > $$tmp || { cat $$tmp; exit 1; }; \
	n=$$(wc -l < $$tmp | tr -d ' '); \
	if [ $$n -gt $(DEMO_LINES) ]; then cat $$tmp; echo "make demo prints $$n lines, more than $(DEMO_LINES): shorten it, or move detail behind -json"; exit 1; fi; \
	echo "make demo: $$n lines (at most $(DEMO_LINES))"

## demo-generate: flujogen generate and check on a copy of examples/hello
## without its flujo_gen.go, then on a hand-edited flujo_gen.go.
demo-generate:
	@tmp=$$(mktemp -d); pkg=$$(mktemp -d examples/_demo.XXXXXX); trap 'rm -rf $$tmp $$pkg' EXIT; trap 'exit 130' INT TERM; \
	cp examples/hello/doc.go examples/hello/pipeline.go $$pkg/; \
	echo; echo "== go tool flujogen generate and check (the tool directive in go.mod), on a copy of examples/hello without its flujo_gen.go, in $$pkg (removed afterwards)"; \
	echo "\$$ go tool flujogen check ./$$pkg"; \
	$(GO) tool flujogen check ./$$pkg 2>&1; echo "  (exit $$?: no generated file yet)"; \
	echo "\$$ go tool flujogen generate ./$$pkg"; \
	$(GO) tool flujogen generate ./$$pkg 2>&1 || exit 1; \
	$(GO) vet ./$$pkg || exit 1; \
	echo "  (flujo_gen.go: $$(wc -l < $$pkg/flujo_gen.go | tr -d ' ') lines, $$(grep -o '^func New[A-Za-z]*Executor' $$pkg/flujo_gen.go | sed 's/^func //') for the pipeline Greeting; the package builds and passes go vet)"; \
	echo "\$$ go tool flujogen check ./$$pkg"; \
	$(GO) tool flujogen check ./$$pkg 2>&1 || exit 1; echo "  (exit 0: up to date)"; \
	echo "\$$ # a hand edit of flujo_gen.go: e.stepGreet.Attempts = 1 -> 3"; \
	sed 's/e.stepGreet.Attempts = 1$$/e.stepGreet.Attempts = 3/' $$pkg/flujo_gen.go > $$tmp/edited && mv $$tmp/edited $$pkg/flujo_gen.go; \
	echo "\$$ go tool flujogen check ./$$pkg"; \
	$(GO) tool flujogen check ./$$pkg > $$tmp/check 2>&1; code=$$?; \
	grep -E -v '^(---|\+\+\+|@@| )' $$tmp/check; echo "  (exit $$code: check prints a unified diff, cut here to its changed lines: - is on disk, + is what generate writes)"; \
	test $$code = 1 || exit 1; \
	$(GO) tool flujogen check ./examples/... >/dev/null 2>&1 || { echo "the committed executors are stale: run make generate"; exit 1; }; \
	echo "The committed executors of ./examples/... pass flujogen check too (make check-generated)."

demo-examples:
	@echo
	@$(GO) run ./examples/triage $(if $(JSON),-json $(abspath $(JSON))/triage.json)
	@echo
	@$(GO) run ./examples/etl $(if $(JSON),-json $(abspath $(JSON))/etl.json)
	@echo
	@cd examples/realtime/cmd/realtime && $(GO) run . -demo $(if $(JSON),-json $(abspath $(JSON))/realtime.json)
	@echo
	@echo "Full figures (configuration, OptimizationStats, recommendations) as JSON: make demo JSON=DIR, or -json FILE on each example."

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
