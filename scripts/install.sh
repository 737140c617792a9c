#!/usr/bin/env bash
# Create .venv and install Segment Studio with its test tools.
# torch is installed first, explicitly, so pip takes the CPU wheel instead of pulling a
# multi-GB CUDA build as a dependency of transformers / sentence-transformers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[dev]"
echo "installed: $(.venv/bin/python -c 'import core, streamlit, torch; print("segment-studio", core.__version__, "| streamlit", streamlit.__version__, "| torch", torch.__version__)')"
