"""The ground every other package stands on; it imports nothing of this project.

- `config`: the one configuration object, as plain data, with its profiles.
- `features`: the feature contract (keys every stage agrees on).
- `artifact_properties`: what our components record on their artifacts.
- `serving_layout`: the `<serving dir>/<model>/<version>/` layout, written atomically.
- `metadata`: the one layer that talks to ML Metadata (sqlite or gRPC): `metadata.store`
  connects and reads records, `metadata.models` is the model registry built on it.

`components/` and `trainer_module/` import only this package; `pipeline/`
assembles them; `kubeflow/` builds on `pipeline/`.

Importing it pins Keras 2 (`tf_keras`) for the process, the one place that does:
Transform's `tft_layer` is a tf_keras model, and mixing it with Keras 3 breaks the
serving signature. TensorFlow reads the setting when `tf.keras` is first used, so every
package of the project (and `benchmarks/`, `tests/conftest.py`) imports `core` first,
before TensorFlow. Kubeflow's image sets the same in its environment (`kubeflow/Dockerfile`).
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
