# The two commands a newcomer types: `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all bootstrap build test validate run bench format clean full

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: bootstrap $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

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

bench: build
	@$(BUILD)/bin/bench_perceptron
	@$(BUILD)/bin/bench_spiking

format:
	@clang-format -i include/syncache/*.hpp src/*.cpp src/*.hpp src/mpi/*.cpp src/figures/*.cpp src/figures/*.hpp apps/*.cpp tests/*.cpp tests/helpers/*.hpp bench/*.cpp

clean:
	rm -rf $(BUILD)
