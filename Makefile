# ecs-pull-doctor: the commands a user and CI run. See README.md.

CARGO ?= cargo
IP_RANGES_URL := https://ip-ranges.amazonaws.com/ip-ranges.json

# The full ip-ranges snapshot for tests, benchmarks and the demo: IP_RANGES_FILE when set,
# else the copy `make ip-ranges` downloads into data/.
ifeq ($(strip $(IP_RANGES_FILE)),)
  ifneq ($(wildcard data/ip-ranges.json),)
    IP_RANGES_FILE := $(CURDIR)/data/ip-ranges.json
  endif
endif
ifneq ($(strip $(IP_RANGES_FILE)),)
  export IP_RANGES_FILE
endif

DOCTOR := $(CARGO) run --quiet --bin ecs-pull-doctor --

SAMPLES := $(sort $(basename $(notdir $(wildcard events/*.json))))

TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)

# make invoke: the event to replay, and the network snapshot to replay it against (the
# sample's own by default; NETWORK= empty inspects live with your AWS credentials).
EVENT ?= events/s3-route-missing.json
NETWORK ?= $(wildcard events/network/$(notdir $(EVENT)))

.PHONY: demo test lint fmt build invoke ip-ranges bench bench-live bench-lambda clean

## demo: the seed scenario in full, then every bundled sample's verdict (no network needed)
demo:
	@$(DOCTOR) diagnose --event events/s3-route-missing.json --network events/network/s3-route-missing.json
	@echo
	@echo "Every bundled sample (events/ against events/network/):"
	@for s in $(SAMPLES); do \
	  net=""; [ -f events/network/$$s.json ] && net="--network events/network/$$s.json"; \
	  printf '  %-28s ' "$$s"; \
	  $(DOCTOR) diagnose --event events/$$s.json $$net | head -n 1; \
	done

## test: format check, clippy with warnings as errors, every test
test: lint
	$(CARGO) test --all-targets

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## build: release binaries (the CLI and the Lambda's bootstrap)
build:
	$(CARGO) build --release --bin ecs-pull-doctor --bin bootstrap

## invoke: the real bootstrap on EVENT through a local Lambda Runtime API, with a local Slack receiver
invoke:
	$(CARGO) build --quiet --bin bootstrap
	@if [ -n "$(NETWORK)" ]; then export NETWORK_SNAPSHOT_FILE="$(NETWORK)"; fi; \
	python3 scripts/lambda_emulator.py --bootstrap $(TARGET_DIR)/debug/bootstrap --event $(EVENT) --slack-receiver

## ip-ranges: download AWS's current ip-ranges.json into data/ (needs network)
ip-ranges:
	@mkdir -p data
	@if curl -fsS --max-time 30 -o data/ip-ranges.json.part $(IP_RANGES_URL); then \
	  mv data/ip-ranges.json.part data/ip-ranges.json; \
	  echo "data/ip-ranges.json: $$(grep -o '"createDate": *"[^"]*"' data/ip-ranges.json)"; \
	else \
	  rm -f data/ip-ranges.json.part; \
	  echo "cannot download $(IP_RANGES_URL) (no network?): pass a copy with --ip-ranges FILE or IP_RANGES_FILE=FILE" >&2; \
	  exit 1; \
	fi

## bench: criterion benchmarks (needs the full ip-ranges snapshot)
bench:
	$(CARGO) bench --bench engine

## bench-live: a full diagnose --live against a local moto server (calls, rounds, wall time)
bench-live:
	$(CARGO) build --release --bin ecs-pull-doctor
	python3 scripts/bench_live.py --binary $(TARGET_DIR)/release/ecs-pull-doctor

## bench-lambda: bootstrap's cold start, warm latency, peak RSS and size (release, moto on loopback)
bench-lambda:
	$(CARGO) build --release --bin bootstrap
	python3 scripts/bench_lambda.py --bootstrap $(TARGET_DIR)/release/bootstrap

clean:
	$(CARGO) clean
	rm -rf data
