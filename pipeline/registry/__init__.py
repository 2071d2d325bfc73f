"""The model registry for people: `python -m pipeline models list|show|promote|rollback`.

`commands` formats and acts; the history itself is read from (and promotions
recorded into) ML Metadata by `core.metadata.models`, and versions are
published by `core.serving_layout`.
"""
