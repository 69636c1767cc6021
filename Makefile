# Strata: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
STRATA = .build/release/strata

.PHONY: setup build release demo test models-qwen bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

demo: release
	@rm -f demo.db
	$(STRATA) --db demo.db ingest Knowledge/
	$(STRATA) --db demo.db search "退款需要几天"
	$(STRATA) --db demo.db search "wire transfer fee"

test: setup
	$(SWIFT) build -c release --product strata
	$(SWIFT) test

models-qwen:
	@bash scripts/models-qwen.sh

bench: release
	@for b in bench/*.sh; do bash $$b; done

clean:
	rm -rf .build
