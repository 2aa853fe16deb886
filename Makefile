# The two commands a newcomer types: `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

SAN_BUILD ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 15

.PHONY: all bootstrap build test check check-more sanitize fuzz validate run bench format clean full

all: build

bootstrap:
	@scripts/bootstrap

# Debian's interpreter builds the Python module (another python3 first on the PATH may lack
# the Debian packages: pybind11, NumPy).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=$(PYTHON) $(CMAKE_FLAGS) >/dev/null

build: bootstrap $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# The fast suite (minutes): the release build, the C++ tests, the Python tests and the
# adapters' fast tests. Tests labelled "slow" (installs into a venv and a prefix, the
# examples, the adapters' long runs) are left to `make check`.
test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE slow

# Everything CI runs: `make test`, the slow tests, the whole suite again under the
# sanitizers, a short fuzzing run of every parser, and the documentation site.
check: test check-more

# What `make check` adds to `make test` (.ci/run calls the two in turn).
check-more: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L slow
	@$(MAKE) --no-print-directory sanitize fuzz
	@$(MAKE) --no-print-directory docs

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (any report
# fails its test), linked with LTO so that a One Definition Rule violation is an error.
sanitize: bootstrap
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
	  -DSYNCACHE_SANITIZE=ON -DSYNCACHE_ODR_CHECK=ON -DSYNCACHE_BENCH=OFF -DSYNCACHE_MPI=OFF \
	  -DSYNCACHE_PYTHON=OFF -DSYNCACHE_INSTALL=OFF \
	  $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS)

# libFuzzer harnesses (clang) of the four parsers, each run FUZZ_SECONDS on its seed corpus
# (a smoke run; docs/hardening.md has the long runs).
fuzz: bootstrap
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSYNCACHE_FUZZ=ON -DSYNCACHE_MPI=OFF -DSYNCACHE_BENCH=OFF -DSYNCACHE_PYTHON=OFF -DSYNCACHE_INSTALL=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	@scripts/fuzz $(FUZZ_BUILD)/bin $(FUZZ_SECONDS)

# The heavier checks (minutes): the reference comparisons over many seeds and larger
# networks (tests named Validate*, left out of ctest).
validate: build
	@$(BUILD)/bin/syncache_tests --gtest_filter='Validate*'

# The main job: the demonstration table, then every figure at the quick scale into results/.
run: build
	@SEEDS=2 scripts/demo
	@$(BUILD)/bin/syncache figure all --quick --out results

# Every figure at the paper's scale (hours); resumable: re-running computes only what is missing.
full: build
	@$(BUILD)/bin/syncache figure all --full --out results-full

# The documentation site (Sphinx, warnings are errors) into $(BUILD)/docs/html; open index.html.
.PHONY: docs
docs: build
	@scripts/build-docs $(BUILD)

bench: build
	@cmake --build $(BUILD) -j $(JOBS) --target benches
	@$(BUILD)/bin/bench_perceptron
	@$(BUILD)/bin/bench_spiking

format:
	@clang-format -i include/syncache/*/*.hpp src/*/*.cpp src/*/*.hpp src/experiments/*/*.cpp src/experiments/*/*.hpp apps/*.cpp apps/*.hpp tests/*.cpp tests/helpers/*.hpp bench/*.cpp

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
