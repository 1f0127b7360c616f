# The one command that must pass: make check.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Every Go module in the repository: the library, examples/, bench/, contrib/*.
MODULES := $(shell find . -name go.mod -not -path './.git/*' -printf '%h\n' | sort)
FUZZTIME ?= 8s

.PHONY: check fmt vet staticcheck test fuzz bench run

check: fmt vet staticcheck test fuzz

fmt:
	@out=$$(gofmt -l $(MODULES)); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	@for m in $(MODULES); do echo "go vet $$m"; (cd $$m && go vet ./...); done

staticcheck:
	@for m in $(MODULES); do echo "staticcheck $$m"; (cd $$m && go run $(STATICCHECK) ./...); done

test:
	@for m in $(MODULES); do echo "go test $$m"; (cd $$m && go test -race -count=1 ./...); done
	@./.ci/chromium-note

fuzz:
	@FUZZTIME=$(FUZZTIME) ./.ci/fuzz $(MODULES)

bench:
	@./bench/run

run:
	cd examples && go run ./chat
