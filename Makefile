# Two entry points for a fresh machine: `make main` (the main job) and `make test` (the whole test suite).
# Both create .venv and install the package with every extra first.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	# torch and torchvision first, as a pair that imports together (torchvision from PyPI needs its own torch)
	$(PYTHON) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PYTHON) -m pip install --quiet -e ".[all,dev]"
	# mediapipe pins protobuf<5, which would break the mT5 tokenizer: install it without its dependencies
	$(PYTHON) -m pip install --quiet --no-deps mediapipe==0.10.14
	touch $@

.PHONY: install main test test-avx2 quality style browser
install: $(VENV)/.installed

# Debian's Chromium, which the demo's browser tests drive with Playwright (tests/test_space.py); needs root
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

main: $(VENV)/.installed
	$(OFFLINE) $(PYTHON) train.py

test: $(VENV)/.installed
	$(OFFLINE) $(PYTHON) -m pytest

# The CPU-sensitive tests (float32 parity bounds, int8 scores) on an emulated AVX2-only CPU, the laptop class:
# tests/cpu/avx2_only.c hides AVX-512, VNNI and AMX from CPUID (needs the CPU flag cpuid_fault and a C compiler);
# one thread: the summation orders that rounded the float32 gradients most
test-avx2: $(VENV)/.installed
	cc -O2 -shared -fPIC -o $(VENV)/avx2_only.so tests/cpu/avx2_only.c
	OMP_NUM_THREADS=1 LD_PRELOAD=$(abspath $(VENV))/avx2_only.so $(OFFLINE) $(PYTHON) -m pytest -p no:faulthandler \
		tests/test_cpu_classes.py tests/test_golden_parity.py tests/test_onnx.py

quality: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests examples benchmarks docs/*.py *.py
	$(VENV)/bin/ruff format --check src tests examples benchmarks docs/*.py *.py

style: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix src tests examples benchmarks docs/*.py *.py
	$(VENV)/bin/ruff format src tests examples benchmarks docs/*.py *.py
