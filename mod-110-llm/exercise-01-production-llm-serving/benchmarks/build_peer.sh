#!/usr/bin/env bash
# Build the peer engines for `make bench-peer` ONCE into .venv-peer/ (bench-only, ignored by
# git, never part of the exercise's lock):
#   1. llama-cpp-python[server] (no wheel on PyPI: uv compiles llama.cpp from the sdist),
#      the OpenAI-compatible Python server; it serves one request at a time;
#   2. llama.cpp's own `llama-server` (C++, continuous batching over --parallel slots),
#      compiled from the SAME llama.cpp source vendored in that sdist, so both peers run
#      the same kernels. Offline: no Web UI download, no OpenSSL.
# Needs cmake, ninja and a C++ compiler (Debian: cmake ninja-build g++). ~10 + ~15 min on
# 2 cores; both steps are skipped when their result already exists (rm -rf .venv-peer to
# rebuild). PEER_CMAKE_ARGS is passed to both builds, e.g. "-DGGML_NATIVE=OFF -DGGML_AVX2=ON"
# to build without the AMX kernels (see the README: the native build crashed here).
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=.venv-peer
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
JOBS=${PEER_BUILD_JOBS:-2}
if [ ! -x "$PEER/bin/python" ]; then
  uv venv --quiet --python 3.11 "$PEER"
fi
if ! "$PEER/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  # --no-config and another cwd: the exercise's pyproject overrides llama-cpp-python away.
  (cd /tmp && CMAKE_ARGS="${PEER_CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL=$JOBS \
     uv pip install --no-config --no-cache \
     --python "$OLDPWD/$PEER/bin/python" "llama-cpp-python[server]==$VERSION")
fi
if [ ! -x "$PEER/bin/llama-server" ]; then
  mkdir -p "$PEER/src"
  if [ ! -d "$PEER/src/llama_cpp_python-$VERSION" ]; then
    "$PEER/bin/python" -m pip --version >/dev/null 2>&1 || uv pip install --quiet \
      --python "$PEER/bin/python" pip
    "$PEER/bin/python" -m pip download --quiet --no-deps --no-binary :all: \
      -d "$PEER/src" "llama-cpp-python==$VERSION"
    tar -xzf "$PEER/src/llama_cpp_python-$VERSION.tar.gz" -C "$PEER/src"
  fi
  cmake -S "$PEER/src/llama_cpp_python-$VERSION/vendor/llama.cpp" -B "$PEER/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF ${PEER_CMAKE_ARGS:-} > "$PEER/cmake.log"
  cmake --build "$PEER/build" --target llama-server -j "$JOBS" > "$PEER/build.log"
  cp "$PEER/build/bin/llama-server" "$PEER/bin/llama-server"
fi
"$PEER/bin/llama-server" --version 2>&1 | head -2
"$PEER/bin/python" -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)"
