"""The one layer that talks to ML Metadata, for local (sqlite) and Kubeflow (gRPC) stores.

- `store`: connect (`Target`, `connect`), read properties whatever number
  type they were stored as, group events by execution, find a pipeline's runs
  under TFX's or KFP's context types.
- `models`: the model registry built on it: every trained model, its
  evaluations, pushes and promotions, its lineage; records promotions.

No other module of the project imports `ml_metadata` (tests that build records do).
"""
