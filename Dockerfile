# The image every Kubeflow task of this pipeline runs in: the TFX 1.16 image plus this project.
#
# Build and push from the repository root (see kubeflow/README.md):
#   docker build -t REGISTRY/tfx-image-transfer:0.1.0 .
#   docker push REGISTRY/tfx-image-transfer:0.1.0
# then compile with --image REGISTRY/tfx-image-transfer:0.1.0.
#
# The base already holds TFX 1.16.0, TensorFlow 2.16, TFT, TFMA, TFDV, ML Metadata,
# Beam (with the SDK worker boot as ENTRYPOINT, so the image also serves as a Beam
# worker image) and kfp. Only what it lacks is installed here, pinned to the versions
# of requirements/lock.txt (tests/kubeflow/test_image.py checks that they agree).
FROM gcr.io/tfx-oss-public/tfx:1.16.0

# Keras 2 (tf_keras) everywhere: Transform's tft_layer is a tf_keras model.
ENV TF_USE_LEGACY_KERAS=1

# TfdsExampleGen reads prepared TFDS datasets; tensorflow-datasets imports
# importlib_resources without declaring it.
RUN python -m pip install --no-cache-dir \
        tensorflow-datasets==4.9.10 \
        importlib-resources==7.1.0 \
        tf-keras==2.16.0

# The sources stay in /pipeline as well: distributed Beam runners build them from
# /pipeline/setup.py (--setup_file) and install them on their workers.
WORKDIR /pipeline
COPY setup.py ./
COPY core/ core/
COPY components/ components/
COPY pipeline/ pipeline/
COPY trainer_module/ trainer_module/
COPY kubeflow/ kubeflow/
# The image's Python is 3.10 (TFX 1.16 declares Python <3.11) while the project's
# lock targets 3.11; the code is kept 3.10-compatible (tested), and its dependencies
# are installed above, hence --no-deps --ignore-requires-python.
RUN python -m pip install --no-cache-dir --no-deps --ignore-requires-python . \
    && python -c "import kubeflow.executor_entrypoint, trainer_module.run, components.tfds_example_gen.executor"
