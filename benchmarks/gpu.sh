#!/usr/bin/env bash
# The extraction benchmark on a GPU machine: install, then run, in under five minutes.
#
#   bash benchmarks/gpu.sh            # from the repository root, with ../shared beside it
#
# It needs the IMDB archive and all-MiniLM-L6-v2 under ../shared (or SHARED_DIR=...), and PyPI;
# on a machine without internet, put the wheels in WHEELS=dir and they are installed from there.
# Writes benchmarks/results/extract_throughput_gpu.json (the script names the file by the device).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/gpu-venv}
python3 -m venv "$VENV"
if [ -n "${WHEELS:-}" ]; then
  "$VENV/bin/pip" install -q --no-index --find-links "$WHEELS" 'tensorflow[and-cuda]==2.21.*' \
    'tensorflow-text==2.21.*' tensorflow-hub h5py click safetensors matplotlib tensorflow-datasets
else
  "$VENV/bin/pip" install -q 'tensorflow[and-cuda]==2.21.*' 'tensorflow-text==2.21.*' tensorflow-hub h5py \
    click safetensors matplotlib tensorflow-datasets
fi
"$VENV/bin/python" -c "import tensorflow as tf; print('GPUs:', tf.config.list_physical_devices('GPU'))"
# The default 2,000 reviews; on a GPU both configs of both encoders take about a minute.
"$VENV/bin/python" benchmarks/extract/extract_throughput.py --n "${N:-2000}"
