"""The prepared data's fingerprint, taken by a task of the run (for orchestrators that cache by
parameters: Kubeflow)."""
