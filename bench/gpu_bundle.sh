#!/usr/bin/env bash
# Packs what bench/gpu.py needs on a GPU machine that has PyTorch (CUDA, cuDNN) but no Keras, zoo or
# TensorFlow, and may have no network: Keras' wheels and zoo's source, well under 64 MiB.
#
#   bench/gpu_bundle.sh [DIR]             # here (default DIR: ${TMPDIR:-/tmp}/zoo-gpu-bundle, outside git)
#
# DIR/wheels holds keras (the version installed here), namex and optree, and keras' other dependencies
# (absl-py, rich, markdown-it-py, mdurl, pygments, h5py, ml-dtypes, packaging, numpy, typing-extensions)
# for machines that lack them; pip installs only what is missing. DIR/zoo-src.tar.gz holds zoo/,
# bench/gpu.py and bench/data/. On the GPU machine:
#
#   cd DIR && mkdir -p src && tar xzf zoo-src.tar.gz -C src
#   python -m pip install --no-index --find-links wheels keras namex optree
#   cd src && PYTHONPATH=. python bench/gpu.py            # writes bench/results/gpu.json; under 8 minutes
#
# optree, h5py, ml-dtypes and numpy are compiled wheels: by default they are for this interpreter's Python
# and Linux x86_64. For another Python on the GPU machine set GPU_PYTHON_VERSION (e.g. 3.12).
# KERAS_ONLY=1 packs only keras, namex and optree (about 3 MB) for machines that have the rest.
set -euo pipefail

DIR=${1:-${TMPDIR:-/tmp}/zoo-gpu-bundle}
PY=${PYTHON:-python}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KERAS_VERSION=$("$PY" -c "import importlib.metadata as m; print(m.version('keras'))")
PYVER=${GPU_PYTHON_VERSION:-$("$PY" -c "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')")}

PACKAGES=("keras==$KERAS_VERSION" namex optree)
if [ "${KERAS_ONLY:-0}" != 1 ]; then
    PACKAGES+=(absl-py rich markdown-it-py mdurl pygments h5py ml-dtypes packaging numpy typing-extensions)
fi

mkdir -p "$DIR/wheels"
"$PY" -m pip download --no-deps --only-binary=:all: --python-version "$PYVER" \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --implementation cp -d "$DIR/wheels" "${PACKAGES[@]}"

(cd "$ROOT" && tar czf - --exclude=__pycache__ zoo bench/gpu.py bench/data) > "$DIR/zoo-src.tar.gz"

du -b "$DIR"/wheels/* "$DIR/zoo-src.tar.gz" | awk '{printf "%8.2f MB  %s\n", $1 / 1e6, $2}'
TOTAL=$(du -sb "$DIR" | cut -f1)
echo "total $(awk "BEGIN {printf \"%.1f\", $TOTAL / 2^20}") MiB in $DIR (keras $KERAS_VERSION, Python $PYVER wheels)"
if [ "$TOTAL" -gt $((64 * 1024 * 1024)) ]; then
    echo "more than 64 MiB: try KERAS_ONLY=1" >&2
    exit 1
fi
