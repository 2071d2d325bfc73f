"""The ground every other package stands on; it imports nothing of this project.

- `config`: the one configuration object, as plain data, with its profiles.
- `features`: the feature contract (keys every stage agrees on).
- `artifact_properties`: what our components record on their artifacts.
- `serving_layout`: the `<serving dir>/<model>/<version>/` layout, written atomically.
- `metadata`: the one layer that talks to ML Metadata (sqlite or gRPC): `metadata.store`
  connects and reads records, `metadata.models` is the model registry built on it.

`components/` and `trainer_module/` import only this package; `pipeline/`
assembles them; `kubeflow/` builds on `pipeline/`.
"""
