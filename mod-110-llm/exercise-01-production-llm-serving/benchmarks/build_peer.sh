#!/usr/bin/env bash
# Build the peer engine(s) for `make bench-peer` ONCE into .venv-peer/ (bench-only, ignored by
# git, never part of the exercise's lock):
#   1. llama.cpp's own `llama-server` (C++, continuous batching over --parallel slots),
#      compiled from the llama.cpp source vendored in the llama-cpp-python sdist (the sdist
#      is fetched with pip; PyPI has no wheel). Target llama-server only; offline: no Web UI
#      download, no OpenSSL, no curl. ~10-15 min on 2 shared cores.
#   2. only with PEER_LLAMA_CPP_PYTHON=1: llama-cpp-python[server] (uv compiles the same
#      llama.cpp from the sdist, ~10 min), the Python OpenAI-compatible server; it has no
#      parallel slots (one request at a time), so it is not the default peer.
# Needs cmake, ninja and a C++ compiler (Debian: cmake ninja-build g++). Each step is skipped
# when its result already exists (rm -rf .venv-peer to rebuild). The build is native
# (-DGGML_NATIVE=ON, so AVX-512/AMX where the CPU has them); PEER_CMAKE_ARGS is appended to
# the cmake flags, e.g. "-DGGML_NATIVE=OFF -DGGML_AVX2=ON" for a portable build.
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=.venv-peer
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
JOBS=${PEER_BUILD_JOBS:-2}
SRC="$PEER/src/llama_cpp_python-$VERSION"
if [ ! -x "$PEER/bin/python" ]; then
  uv venv --quiet --allow-existing --python 3.11 "$PEER"  # keeps src/ and build/
fi
if [ ! -x "$PEER/bin/llama-server" ]; then
  mkdir -p "$PEER/src"
  if [ ! -d "$SRC/vendor/llama.cpp" ]; then
    "$PEER/bin/python" -m pip --version >/dev/null 2>&1 || uv pip install --quiet \
      --python "$PEER/bin/python" pip
    "$PEER/bin/python" -m pip download --quiet --no-deps --no-binary :all: \
      -d "$PEER/src" "llama-cpp-python==$VERSION"
    tar -xzf "$PEER/src/llama_cpp_python-$VERSION.tar.gz" -C "$PEER/src"
  fi
  echo "building llama-server (log: $PEER/build.log)"
  # shellcheck disable=SC2086  # PEER_CMAKE_ARGS is a list of flags
  cmake -S "$SRC/vendor/llama.cpp" -B "$PEER/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
    ${PEER_CMAKE_ARGS:-} > "$PEER/cmake.log" 2>&1
  cmake --build "$PEER/build" --target llama-server -j "$JOBS" > "$PEER/build.log" 2>&1 \
    || { tail -20 "$PEER/build.log"; exit 1; }
  cp "$PEER/build/bin/llama-server" "$PEER/bin/llama-server"
fi
if [ "${PEER_LLAMA_CPP_PYTHON:-0}" = 1 ] \
    && ! "$PEER/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  # --no-config and another cwd: the exercise's pyproject overrides llama-cpp-python away.
  (cd /tmp && CMAKE_ARGS="${PEER_CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL=$JOBS \
     uv pip install --no-config --no-cache \
     --python "$OLDPWD/$PEER/bin/python" "llama-cpp-python[server]==$VERSION")
fi
"$PEER/bin/llama-server" --version 2>&1 | tail -2
"$PEER/bin/python" -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)" \
  2>/dev/null || echo "llama-cpp-python server: not built (PEER_LLAMA_CPP_PYTHON=1 to add it)"
