# The image every Kubeflow task of this pipeline runs in, and the Beam worker image:
# Python 3.11 with exactly requirements/lock.txt, installed the way `make install` does.
#
# Build and push from the repository root (see kubeflow/README.md):
#   docker build -t REGISTRY/tfx-image-transfer:0.1.0 .
#   docker push REGISTRY/tfx-image-transfer:0.1.0
# then compile with --image REGISTRY/tfx-image-transfer:0.1.0.
# `make image-test` builds it offline-style on a debootstrapped Debian base and replays
# a task inside it.
#
# BASE_IMAGE: any Debian-based image with python3.11 and its venv module.
# BEAM_SDK_IMAGE: the Beam SDK image of the locked apache-beam, for its worker boot.
# LOCK: the lock to install (tests/kubeflow/test_image.py checks it is ours):
#   requirements/lock.txt (CPU), or requirements/lock-gpu.txt for the Trainer's GPU image
#   (the same pins plus TensorFlow's CUDA/cuDNN wheels; `make lock-gpu`).
ARG BASE_IMAGE=python:3.11-slim-bookworm
ARG BEAM_SDK_IMAGE=apache/beam_python3.11_sdk:2.59.0
FROM ${BEAM_SDK_IMAGE} AS beam_sdk

# The locked environment, built where a compiler is at hand (pyfarmhash, a Beam
# dependency, ships as source only), then copied into a base without one.
FROM ${BASE_IMAGE} AS environment
ARG LOCK=requirements/lock.txt
# An extra CA bundle for pip behind a TLS-intercepting proxy (requirements/ca/, filled by
# `make image-test`; empty otherwise). Public certificates, not secrets.
COPY requirements/ca/ /tmp/ca/
COPY ${LOCK} /tmp/lock.txt
RUN set -eu; \
    headers="$(python3.11 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"; \
    dev=""; [ -f "$headers/Python.h" ] || dev=python3.11-dev; \
    apt-get update -q && apt-get install -y -q --no-install-recommends g++ $dev; \
    rm -rf /var/lib/apt/lists/*
# The same three steps as the Makefile's install: the lock exactly, then tfx and
# ml-pipelines-sdk without their dependencies (they declare Python <3.11; every
# dependency they need is in the lock).
RUN set -eu; \
    if [ -s /tmp/ca/ca.crt ]; then export SSL_CERT_FILE=/tmp/ca/ca.crt PIP_CERT=/tmp/ca/ca.crt; fi; \
    python3.11 -m venv /opt/venv; \
    /opt/venv/bin/python -m pip install --no-cache-dir --quiet "uv==0.13.9"; \
    /opt/venv/bin/uv pip sync --no-cache --python /opt/venv/bin/python /tmp/lock.txt; \
    /opt/venv/bin/uv pip install --no-cache --python /opt/venv/bin/python --no-deps \
        tfx==1.16.0 ml-pipelines-sdk==1.16.0

FROM ${BASE_IMAGE}
ARG LOCK=requirements/lock.txt
# Keras 2 (tf_keras) everywhere: Transform's tft_layer is a tf_keras model.
ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Beam's worker boot, so Dataflow/Flink/Spark can run this image as their SDK harness
# (--sdk_container_image / --environment_config); KFP tasks set their own command.
COPY --from=beam_sdk /opt/apache/beam /opt/apache/beam
ENTRYPOINT ["/opt/apache/beam/boot"]
COPY --from=environment /opt/venv /opt/venv
# The GPU image (LOCK=requirements/lock-gpu.txt) holds TensorFlow's CUDA libraries as
# nvidia-* wheels; TensorFlow 2.16 does not always find them by itself
# (tensorflow/tensorflow#63362), so their directories go on the loader's path.
# Nothing to do in the CPU image.
RUN nvidia=/opt/venv/lib/python3.11/site-packages/nvidia; \
    if [ -d "$nvidia" ]; then ls -d "$nvidia"/*/lib > /etc/ld.so.conf.d/tensorflow-cuda.conf && ldconfig; fi

WORKDIR /pipeline
COPY ${LOCK} requirements/lock.txt
# The sources stay in /pipeline as well: distributed Beam runners build them from
# /pipeline/setup.py (--setup_file) and install them on their workers.
COPY setup.py ./
COPY core/ core/
COPY components/ components/
COPY pipeline/ pipeline/
COPY trainer_module/ trainer_module/
COPY kubeflow/ kubeflow/
RUN /opt/venv/bin/uv pip install --no-cache --python /opt/venv/bin/python --no-deps --no-build-isolation . \
    && python -c "import kubeflow.executor_entrypoint, trainer_module.run, components.tfds_example_gen.executor"
