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

# The demo: ingest the bundled knowledge base (staff-only material under its group; a PDF and a
# DOCX among the documents), import the business tables (their rows searchable, customer cases not),
# then show search, grounded answers (one cited from a table row, one found only in the PDF, cited
# with its page), a refusal, and a customer-service exchange. Last, L2: one finance question to the
# small model without and with the shipped adapter (adapters/finance-en.gguf), greedy, so the two
# answers differ only by the adapter.
DEMO_DB = demo.db
SMOL = models/SmolLM2-135M-Instruct.Q4_1.gguf
L2_QUESTION = "What happens to bond prices when interest rates rise?"
demo: release
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(STRATA) --db $(DEMO_DB) ingest --embed Knowledge/about.md Knowledge/faq Knowledge/policies Knowledge/research Knowledge/documents
	$(STRATA) --db $(DEMO_DB) ingest --embed --groups staff Knowledge/internal
	$(STRATA) --db $(DEMO_DB) data import --searchable --embed Knowledge/business/products.csv Knowledge/business/branches.csv Knowledge/business/fee_schedule.csv Knowledge/business/card_fees.csv
	$(STRATA) --db $(DEMO_DB) data import Knowledge/business/cases.csv
	$(STRATA) --db $(DEMO_DB) search "退款需要几天"
	$(STRATA) --db $(DEMO_DB) search "how long until my money comes back"
	$(STRATA) --db $(DEMO_DB) ask "How long does a card refund take?"
	$(STRATA) --db $(DEMO_DB) ask "海港白金信用卡年费多少？怎么免？"
	$(STRATA) --db $(DEMO_DB) ask "徐家汇支行礼拜天开门吗？"
	$(STRATA) --db $(DEMO_DB) ask "When is the safe deposit vault open?"
	$(STRATA) --db $(DEMO_DB) ask "What is the gold price forecast for 2027?"
	printf '信用卡年费多少？\n那储蓄卡呢？\nIs the 3-month deposit promotion still on?\n' | $(STRATA) --db $(DEMO_DB) support --today 2026-11-23
	@echo "== L2 on SmolLM2-135M (the model finance-en was trained on; Reuters newswire, not Q&A): without, then with --adapter finance-en"
	$(STRATA) generate --model $(SMOL) --temp 0 -n 48 --chat $(L2_QUESTION)
	$(STRATA) generate --model $(SMOL) --temp 0 -n 48 --chat --adapter finance-en $(L2_QUESTION)

# The whole suite, then the kernel and parity tests again on the code paths this host did not
# take (AVX-512 kernels off where the CPU has them; OpenBLAS's other sgemm kernels).
test: setup
	$(SWIFT) test
	@SWIFT=$(SWIFT) bash scripts/test-other-paths.sh

models-qwen:
	@bash scripts/models-qwen.sh

# Every benchmark program: each prints our figure, the reference figure and the ratio.
BENCHES = fts ingest embed search kernels tokenizer llm lora
bench: setup
	@for b in $(BENCHES); do echo "== bench-$$b"; $(SWIFT) run -c release bench-$$b || exit 1; done

clean:
	rm -rf .build
