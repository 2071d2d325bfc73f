# The two commands of the README: `make demo` and `make test`.
# Everything else here is what they need, and `make bench` (benchmarks/).

PYTHON_VERSION ?= 3.11
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
export TF_CPP_MIN_LOG_LEVEL ?= 1

.PHONY: demo test test-fast portable-test bench install lock lock-gpu lint clean image-test check-kfp-sources

demo: $(VENV)/.installed
	$(PY) -m pipeline generate-sample --if-missing
	$(PY) -m pipeline run --profile sample

test: lint
	$(PY) -m pytest

# The developer loop: every test that starts no whole pipeline (a few minutes); single
# components still run on tiny data. `make test` runs these and the pipeline runs.
test-fast: lint
	$(PY) -m pytest -m "not e2e and not kfp_replay and not portable"

# The Beam components on Beam's portable runner (its job service, an external worker pool)
# against the DirectRunner's run on the same data: two pipeline runs, a few minutes.
portable-test: $(VENV)/.installed
	$(PY) -m pytest -m portable tests/test_portable_runner.py

install: $(VENV)/.installed

# Every benchmark (about 26 min on 2 cores), then docs/PERFORMANCE.md is rewritten.
# Heavy: on a shared machine run it as `flock /tmp/heavy.lock make bench`.
bench: $(VENV)/.installed
	$(PY) -m benchmarks

# The lock is resolved for Python 3.11 and installed exactly (uv pip sync).
# tfx and ml-pipelines-sdk 1.16.0 declare Requires-Python <3.11 although every
# dependency they need ships 3.11 wheels (all are in the lock), so they are
# installed afterwards with --no-deps.
$(VENV)/.installed: requirements/lock.txt setup.py
	test -x $(PY) || python$(PYTHON_VERSION) -m venv $(VENV)
	$(PY) -m pip install --quiet "uv==0.13.9"
	$(UV) pip sync --python $(PY) requirements/lock.txt
	$(UV) pip install --python $(PY) --no-deps tfx==1.16.0 ml-pipelines-sdk==1.16.0
	$(UV) pip install --python $(PY) --no-deps -e .
	touch $@

LOCK_PLATFORM := --python-version 3.11 --python-platform x86_64-manylinux_2_28

# Regenerate requirements/lock.txt from requirements/base.in, then the GPU image's lock
# from it (needs PyPI).
lock: $(VENV)/.installed
	$(UV) pip compile requirements/base.in $(LOCK_PLATFORM) -o requirements/lock.txt
	$(MAKE) lock-gpu

# requirements/lock-gpu.txt: the lock plus TensorFlow's CUDA/cuDNN wheels, for the GPU
# image only (docker build --build-arg LOCK=requirements/lock-gpu.txt). The lock is a
# constraint, so every package both hold has the same pin; `make install` never reads it.
lock-gpu: $(VENV)/.installed
	$(UV) pip compile requirements/gpu.in -c requirements/lock.txt $(LOCK_PLATFORM) \
		-o requirements/lock-gpu.txt

# Builds the Kubeflow image from the lock and replays the first tasks inside it (needs a
# Docker daemon and debootstrap; not part of `make test`). See kubeflow/README.md.
image-test: $(VENV)/.installed
	tests/kubeflow/image_test.sh

# Checks the cited evidence of every KFP release difference the Kubeflow replay models
# against a clone of kubeflow/pipelines with its tags (not part of `make test`: CI has no
# copy). Usage: make check-kfp-sources KFP_GIT=/path/to/pipelines/.git
check-kfp-sources: $(VENV)/.installed
	$(PY) -m tests.kubeflow.check_kfp_sources $(KFP_GIT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf outputs data
