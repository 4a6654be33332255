# The two commands a new machine needs: `make run` and `make test`.
# Both install missing Debian packages first (scripts/install-deps.sh).
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: deps test run release asan tsan clang fuzz bench format tidy clean

deps:
	@./scripts/install-deps.sh

out/build/%/build.ninja: | deps
	cmake --preset $* >/dev/null

test: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS)

clang: deps
	cmake --preset clang >/dev/null
	cmake --build --preset clang -j $(JOBS)
	ctest --preset clang -j $(JOBS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# Builds only what `make run` and the README's two-terminal chat need.
run: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target chatsdk-server chatsdk_chat
	@./scripts/run-server.sh $(HOST) $(PORT)

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	./scripts/run-fuzz.sh out/build/fuzz $(FUZZ_SECONDS)

bench: deps
	./bench/run.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')

tidy:
	cmake --preset dev >/dev/null
	run-clang-tidy -p out/build/dev -quiet $$(git ls-files 'src/*.cpp')

clean:
	rm -rf out
