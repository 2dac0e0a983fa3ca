# Same commands as .ci/run.
.PHONY: dev test lint bench peers
dev:
	pip install --group dev
	MATURIN_PEP517_ARGS="--profile ci" pip install -e . --no-build-isolation --no-deps
test:
	cargo test -p lobkit-core --profile ci --locked
	python -m pytest
lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --profile ci --locked -- -D warnings
bench:
	python benches/instructions.py
	cargo bench -p lobkit-core --bench books
	python -m pytest benches --benchmark-enable --benchmark-only
peers:
	pip install --group bench-peers
	python benches/peers.py --json bench-results/peers.json
