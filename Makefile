# The two commands a newcomer types: `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all bootstrap build test run bench format clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: bootstrap $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

run: build
	@scripts/demo

bench: build
	@$(BUILD)/bin/bench_perceptron

format:
	@clang-format -i include/syncache/*.hpp src/*.cpp apps/*.cpp tests/*.cpp bench/*.cpp

clean:
	rm -rf $(BUILD)
