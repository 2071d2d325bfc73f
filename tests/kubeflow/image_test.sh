#!/usr/bin/env bash
# `make image-test`: builds the Kubeflow image from the lock and replays tasks inside it.
#
# Public base images cannot be pulled on the development machines, so two local
# stand-ins are made first (and reused):
# - the base: Debian bookworm from debootstrap with its python3.11, in place of python:3.11;
# - the Beam SDK image: only an /opt/apache/beam/boot that says it is a stand-in (the real
#   boot comes from apache/beam_python3.11_sdk when building for a cluster).
# Needs: a running Docker daemon, debootstrap, and the project venv (`make install`).
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${1:-tfx-image-transfer:image-test}
BASE=tfx-image-transfer-base:bookworm-python3.11
BEAM=tfx-image-transfer-beam-standin:2.59.0
WORK=${IMAGE_TEST_DIR:-/tmp/tfx-image-transfer-image-test}
mkdir -p "$WORK"

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  # debootstrap does not resolve the dependencies of --include: python3.11-venv's are listed.
  packages=python3.11,python3.11-venv,python3-distutils,python3-pip-whl
  packages=$packages,python3-setuptools-whl,ca-certificates
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" http://deb.debian.org/debian
  tar -C "$rootfs" -c . | docker import - "$BASE"
fi
if ! docker image inspect "$BEAM" >/dev/null 2>&1; then
  beam="$WORK/beam-standin"
  mkdir -p "$beam/opt/apache/beam"
  printf '#!/bin/sh\necho "Beam boot stand-in: build with the real apache/beam_python3.11_sdk" >&2\nexit 1\n' \
    > "$beam/opt/apache/beam/boot"
  chmod +x "$beam/opt/apache/beam/boot"
  tar -C "$beam" -c . | docker import - "$BEAM"
fi

# A TLS-intercepting proxy's CA bundle, for pip inside the build (empty when unset).
mkdir -p requirements/ca
if [ -n "${SSL_CERT_FILE:-}" ] && [ -f "$SSL_CERT_FILE" ]; then
  cp "$SSL_CERT_FILE" requirements/ca/ca.crt
fi
trap 'rm -f requirements/ca/ca.crt' EXIT

docker build --network host \
  --build-arg BASE_IMAGE="$BASE" --build-arg BEAM_SDK_IMAGE="$BEAM" \
  -t "$IMAGE" .
docker image ls "$IMAGE"
docker run --rm --entrypoint python "$IMAGE" -c \
  "import sys, tensorflow, tfx, kfp; print(sys.version.split()[0], tensorflow.__version__, tfx.__version__, kfp.__version__)"
PYTHONPATH=. .venv/bin/python -m tests.kubeflow.image_replay "$IMAGE" "$WORK/replay"
# Beam's SDK workers inside the image: the sample pipeline on the portable runner, the job
# service here and `docker run` of the image as its worker pool.
PYTHONPATH=. .venv/bin/python -m tests.kubeflow.image_worker_pool "$IMAGE" "$WORK/worker_pool"
