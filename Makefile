# certstatus — see README.md. Small targets; `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/certstatus
DATA    ?= ./data
PKGS    := ./...

.PHONY: run build install test lint fmt vet staticcheck layering fuzz bench gobench loadbench clean

# VERSION goes into the binary (certstatus version); git describe when
# built from a checkout.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
PREFIX  ?= /usr/local
DESTDIR ?=

## run: build and start `certstatus serve` on the embedded default (./data, 127.0.0.1:8080 and :8888)
run: build
	./$(BIN) serve --data $(DATA)

## build: the static binary (no cgo)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/certstatus

## install: the binary to $(DESTDIR)$(PREFIX)/bin, the systemd unit to
## $(DESTDIR)/etc/systemd/system and the example config to
## $(DESTDIR)/etc/certstatus (kept if present); see docs/PRODUCTION.md
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/certstatus
	install -D -m 0644 packaging/certstatus.service $(DESTDIR)/etc/systemd/system/certstatus.service
	sed -i 's|/usr/local/bin/certstatus|$(PREFIX)/bin/certstatus|' $(DESTDIR)/etc/systemd/system/certstatus.service
	test -e $(DESTDIR)/etc/certstatus/certstatus.json || install -D -m 0644 packaging/certstatus.json $(DESTDIR)/etc/certstatus/certstatus.json

## test: lint, the whole suite under the race detector, the allocation
## tests without it (it changes sync.Pool), and every benchmark once
## (correctness only: no speed is ever asserted)
test: lint
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -run 'Allocations' $(PKGS)
	$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 $(PKGS)

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

## lint: gofmt, go vet, staticcheck and the package-graph rule of DESIGN.md
lint: fmt vet staticcheck layering

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) run $(STATICCHECK) $(PKGS)

layering:
	$(GO) test -count=1 ./internal/layering/

## fuzz: run each fuzz target briefly (FUZZTIME each; their seed corpora run in make test)
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRecord$$' -fuzztime $(FUZZTIME) ./db/
	$(GO) test -run '^$$' -fuzz '^FuzzParseSAN$$' -fuzztime $(FUZZTIME) ./ca/
	$(GO) test -run '^$$' -fuzz '^FuzzIssueCSR$$' -fuzztime $(FUZZTIME) ./ca/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckSerial$$' -fuzztime $(FUZZTIME) ./db/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./internal/ram/
	$(GO) test -run '^$$' -fuzz '^FuzzGlob$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./internal/ram/
	$(GO) test -run '^$$' -fuzz '^FuzzV1StringToSign$$' -fuzztime $(FUZZTIME) ./internal/acsauth/
	$(GO) test -run '^$$' -fuzz '^FuzzAppend$$' -fuzztime $(FUZZTIME) ./internal/percent/
	$(GO) test -run '^$$' -fuzz '^FuzzParseAuthorization$$' -fuzztime $(FUZZTIME) ./internal/acsauth/
	$(GO) test -run '^$$' -fuzz '^FuzzV3CanonicalRequest$$' -fuzztime $(FUZZTIME) ./internal/acsauth/
	$(GO) test -run '^$$' -fuzz '^FuzzDecryptPEM$$' -fuzztime $(FUZZTIME) ./internal/pkcs8/
	$(GO) test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./responder/
	$(GO) test -run '^$$' -fuzz '^FuzzParseRequest$$' -fuzztime $(FUZZTIME) ./responder/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeGET$$' -fuzztime $(FUZZTIME) ./responder/
	$(GO) test -run '^$$' -fuzz '^FuzzParseQuick$$' -fuzztime $(FUZZTIME) ./responder/
	$(GO) test -run '^$$' -fuzz '^FuzzQuickGET$$' -fuzztime $(FUZZTIME) ./responder/
	$(GO) test -run '^$$' -fuzz '^FuzzReadRequest$$' -fuzztime $(FUZZTIME) ./internal/quickhttp/
	$(GO) test -run '^$$' -fuzz '^FuzzForResponder$$' -fuzztime $(FUZZTIME) ./cmd/certstatus/
	$(GO) test -run '^$$' -fuzz '^FuzzElement$$' -fuzztime $(FUZZTIME) ./internal/ocspsign/

## bench: the Go benchmarks with allocation counts, then the side-by-side
## load test (needs wrk, openssl, taskset; see docs/BENCHMARKS.md)
bench: gobench loadbench

gobench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## loadbench: certstatus vs cfssl ocspserve vs openssl ocsp vs bare net/http,
## wrk pinned to one core and each server to the other (LOADBENCH_FLAGS=-h)
LOADBENCH_FLAGS ?=
loadbench:
	$(GO) run ./bench/loadbench $(LOADBENCH_FLAGS)

clean:
	rm -rf bin
