# ecs-pull-doctor: the commands a user and CI run. See README.md.

CARGO ?= cargo

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

# The Python tools the tests use (moto, boto3, cfn-lint) and the SAM CLI, each pinned in its
# own venv outside the clone (so CI and later clones reuse them), created on first use and
# again when the pins change. A global install would fight over boto3's version.
TOOLS_DIR ?= $(HOME)/.cache/ecs-pull-doctor
TEST_VENV ?= $(TOOLS_DIR)/test-venv
TEST_TOOLS := $(TEST_VENV)/.pins-$(shell cksum < tests/requirements.txt | cut -d' ' -f1)
SAM_VENV ?= $(TOOLS_DIR)/sam-venv
SAM_TOOLS := $(SAM_VENV)/.pins-$(shell cksum < deploy/requirements-sam.txt | cut -d' ' -f1)
# The SAM CLI: SAM_CLI when given, else the pinned one in its venv.
SAM := $(or $(SAM_CLI),$(SAM_VENV)/bin/sam)
export SAM_CLI_TELEMETRY = 0
# The tests find python3 (moto, boto3, cfn-lint) and the SAM CLI through these.
TEST_ENV := PATH="$(TEST_VENV)/bin:$$PATH" SAM_CLI="$(SAM)"

# The function's architecture for `sam build` and `sam deploy` (passed as the template's
# Architecture parameter): this machine's by default, so `make package` can run what it built;
# LAMBDA_ARCH=arm64 on an x86_64 machine cross-compiles (Graviton is the cheaper Lambda).
HOST_ARCH := $(shell uname -m | sed 's/aarch64/arm64/')
LAMBDA_ARCH ?= $(HOST_ARCH)
RUST_TARGET_arm64 := aarch64-unknown-linux-gnu
RUST_TARGET_x86_64 := x86_64-unknown-linux-gnu
CROSS_CC_arm64 := aarch64-linux-gnu-gcc
CROSS_CC_x86_64 := x86_64-linux-gnu-gcc

.PHONY: demo test test-tools test-prerequisites lint fmt build install invoke ip-ranges bench bench-live bench-audit bench-sweep bench-lambda bench-soak clean sam-cli package deploy build-Function build-SweepWorker

## demo: the seed scenario in full, every bundled sample's verdict, then the audit of a bundled
## account (no network needed)
demo:
	@$(DOCTOR) diagnose --event events/s3-route-missing.json --network events/network/s3-route-missing.json
	@echo
	@echo "Every bundled sample (events/ against events/network/):"
	@for s in $(SAMPLES); do \
	  net=""; [ -f events/network/$$s.json ] && net="--network events/network/$$s.json"; \
	  printf '  %-28s ' "$$s"; \
	  $(DOCTOR) diagnose --event events/$$s.json $$net | head -n 1; \
	done
	@echo
	@echo "Preflight: the audit of a bundled account snapshot, before any task fails (exit 1: blocked):"
	@$(DOCTOR) audit --network events/audit/account.json || [ $$? -eq 1 ]

## test: the test tools (once), format check, clippy with warnings as errors, every test
# Tests that need something a plain `cargo test` may lack are #[ignore]d with the reason and
# run here: the SAM CLI ones always (make installs it), the full_snapshot_* ones when AWS's
# full ip-ranges.json is there (CI always gives it; elsewhere they are reported as not run).
test: lint
ifneq ($(strip $(IP_RANGES_FILE)),)
	$(TEST_ENV) $(CARGO) test --all-targets -- --include-ignored
else
	@if [ -n "$$CI" ]; then echo "CI: IP_RANGES_FILE is not set; the full_snapshot tests must run" >&2; exit 1; fi
	$(TEST_ENV) $(CARGO) test --all-targets
	$(TEST_ENV) $(CARGO) test --tests -- --ignored --skip full_snapshot
	@echo "not run: the full_snapshot_* tests (tests/ipranges.rs) need AWS's full ip-ranges.json; run make ip-ranges or set IP_RANGES_FILE=/path/to/ip-ranges.json"
endif

## lint: rustfmt check, clippy -D warnings, cfn-lint and sam validate --lint (pinned tools)
lint: test-tools sam-cli
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(TEST_VENV)/bin/cfn-lint template.yaml deploy/member.yaml
	$(SAM) validate --lint --region ap-northeast-2 --template-file template.yaml
	$(SAM) validate --lint --region ap-northeast-2 --template-file deploy/member.yaml

## test-tools: the pinned Python test tools (tests/requirements.txt) in their venv ($(TEST_VENV))
test-tools: $(TEST_TOOLS) test-prerequisites
## test-prerequisites: what make test calls besides Rust and Python: objdump (the bootstrap's glibc check)
test-prerequisites:
	@command -v objdump >/dev/null || { echo "make test needs objdump (binutils: apt-get install binutils, dnf install binutils)" >&2; exit 1; }
# The pins' checksum is in the stamp's name, so a clone's newer file time does not reinstall.
$(TEST_TOOLS):
	rm -rf $(TEST_VENV)
	python3 -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

## sam-cli: the pinned SAM CLI (deploy/requirements-sam.txt) in its venv ($(SAM_VENV))
sam-cli: $(SAM_TOOLS)
$(SAM_TOOLS):
	rm -rf $(SAM_VENV)
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/requirements-sam.txt
	$(SAM_VENV)/bin/sam --version
	touch $@

fmt:
	$(CARGO) fmt --all

## build: release binaries (the CLI and the Lambda's bootstrap)
build:
	$(CARGO) build --release --bin ecs-pull-doctor --bin bootstrap

## build-Function: what `sam build` runs (BuildMethod: makefile): bootstrap for LAMBDA_ARCH and ip-ranges.json into ARTIFACTS_DIR
## (SweepWorker is the same binary)
build-Function build-SweepWorker:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: run sam build" >&2; exit 1; }
	@ranges="$(IP_RANGES_FILE)"; test -n "$$ranges" && test -f "$$ranges" || { \
	  echo "no ip-ranges.json to package: run make ip-ranges or set IP_RANGES_FILE" >&2; exit 1; }
ifeq ($(LAMBDA_ARCH),$(HOST_ARCH))
	$(CARGO) build --release --bin bootstrap
	cp $(TARGET_DIR)/release/bootstrap $(ARTIFACTS_DIR)/bootstrap
else
	@command -v $(CROSS_CC_$(LAMBDA_ARCH)) >/dev/null || { \
	  echo "building for $(LAMBDA_ARCH) on $(HOST_ARCH) needs a cross linker: apt-get install gcc-$(subst _,-,$(RUST_TARGET_$(LAMBDA_ARCH):-unknown-linux-gnu=))-linux-gnu libc6-dev-$(subst x86_64,amd64,$(LAMBDA_ARCH))-cross" >&2; exit 1; }
	rustup target add $(RUST_TARGET_$(LAMBDA_ARCH))
	CARGO_TARGET_$(shell echo $(RUST_TARGET_$(LAMBDA_ARCH)) | tr a-z- A-Z_)_LINKER=$(CROSS_CC_$(LAMBDA_ARCH)) \
	  $(CARGO) build --release --bin bootstrap --target $(RUST_TARGET_$(LAMBDA_ARCH))
	cp $(TARGET_DIR)/$(RUST_TARGET_$(LAMBDA_ARCH))/release/bootstrap $(ARTIFACTS_DIR)/bootstrap
endif
	cp "$(IP_RANGES_FILE)" $(ARTIFACTS_DIR)/ip-ranges.json

## package: sam build for LAMBDA_ARCH, then the packaged bootstrap (with its own ip-ranges.json) answers the seed sample
package: sam-cli
	$(SAM) build --parameter-overrides Architecture=$(LAMBDA_ARCH)
	@test -x .aws-sam/build/Function/bootstrap && test -s .aws-sam/build/Function/ip-ranges.json
ifeq ($(LAMBDA_ARCH),$(HOST_ARCH))
	env -u IP_RANGES_FILE NETWORK_SNAPSHOT_FILE=events/network/s3-route-missing.json \
	  python3 scripts/lambda_emulator.py --bootstrap .aws-sam/build/Function/bootstrap \
	  --event events/s3-route-missing.json --slack-receiver >/dev/null
	@echo "package: .aws-sam/build/Function/bootstrap ($(LAMBDA_ARCH)) answered the seed sample"
else
	@echo "package: .aws-sam/build/Function/bootstrap built for $(LAMBDA_ARCH), not this machine's $(HOST_ARCH): not run here"
endif

## deploy: sam build and a guided sam deploy (asks for the stack name, region and parameters)
deploy: sam-cli
	@echo "deploy: building for $(LAMBDA_ARCH) (LAMBDA_ARCH=arm64|x86_64 to choose)"
	$(SAM) build --parameter-overrides Architecture=$(LAMBDA_ARCH)
	$(SAM) deploy --guided --parameter-overrides Architecture=$(LAMBDA_ARCH)

## invoke: the real bootstrap on EVENT through a local Lambda Runtime API, with a local Slack receiver
invoke:
	$(CARGO) build --quiet --bin bootstrap
	@if [ -n "$(NETWORK)" ]; then export NETWORK_SNAPSHOT_FILE="$(NETWORK)"; fi; \
	python3 scripts/lambda_emulator.py --bootstrap $(TARGET_DIR)/debug/bootstrap --event $(EVENT) --slack-receiver

## ip-ranges: download AWS's current ip-ranges.json into data/ (needs network; `ecs-pull-doctor ip-ranges update` keeps the user's copy)
ip-ranges:
	$(DOCTOR) ip-ranges update --to data/ip-ranges.json

## install: the CLI on the PATH (cargo install: ~/.cargo/bin), then `ecs-pull-doctor ip-ranges update`
install:
	$(CARGO) install --locked --path . --bin ecs-pull-doctor

## bench: criterion benchmarks (needs the full ip-ranges snapshot)
bench:
	$(CARGO) bench --bench engine

## bench-live: a full diagnose --live against a local moto server (calls, rounds, wall time)
bench-live: test-tools
	$(CARGO) build --release --bin ecs-pull-doctor
	$(TEST_VENV)/bin/python3 scripts/bench_live.py --binary $(TARGET_DIR)/release/ecs-pull-doctor

## bench-sweep: the organisation's sweep of 200 accounts x 2 regions against moto, through the release bootstrap and the SQS poller harness (wall time, calls per target, worker peak RSS, retries)
bench-sweep: test-tools
	$(CARGO) build --release --bin bootstrap
	$(TEST_VENV)/bin/python3 scripts/bench_sweep.py --bootstrap $(TARGET_DIR)/release/bootstrap --accounts 200 --workers 4

## bench-audit: audit --live of 500 services in 4 clusters over 20 VPCs, and of 50 member accounts, against moto (calls, rounds, wall time, peak RSS)
bench-audit: test-tools
	@test -x /usr/bin/time || { echo "make bench-audit measures peak RSS with GNU time: apt-get install time" >&2; exit 1; }
	$(CARGO) build --release --bin ecs-pull-doctor --bin bootstrap
	$(TEST_VENV)/bin/python3 scripts/bench_audit.py --binary $(TARGET_DIR)/release/ecs-pull-doctor --bootstrap $(TARGET_DIR)/release/bootstrap
	$(TEST_VENV)/bin/python3 scripts/bench_audit.py --binary $(TARGET_DIR)/release/ecs-pull-doctor --accounts 50

## bench-lambda: bootstrap's cold start, warm latency, peak RSS and size (release, moto on loopback)
bench-lambda: test-tools
	$(CARGO) build --release --bin bootstrap
	$(TEST_VENV)/bin/python3 scripts/bench_lambda.py --bootstrap $(TARGET_DIR)/release/bootstrap

## bench-soak: one warm bootstrap through a long storm: RSS after 1,000/3,000/10,000 diagnosed events, events/s
bench-soak: test-tools
	$(CARGO) build --release --bin bootstrap
	$(TEST_VENV)/bin/python3 scripts/bench_soak.py --bootstrap $(TARGET_DIR)/release/bootstrap

clean:
	$(CARGO) clean
	rm -rf data
