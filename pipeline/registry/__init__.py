"""The model registry: what was trained, evaluated, blessed, pushed and promoted, from MLMD.

`serving` publishes model versions atomically into a TF Serving layout;
`store` reads and records the models' history in ML Metadata; `commands`
implements `python -m pipeline models list|show|promote|rollback`.
"""
