"""Removes the zero-byte directory markers TensorFlow's GCS filesystem leaves in output artifacts.

`tf.io.gfile.makedirs("gs://b/x/model")` writes an empty object `x/model/`. KFP's
launcher downloads every object under an input artifact's URI as a file before the
next task starts, so `model/` becomes a file and nothing beneath it can be created
("not a directory"): kubeflow/pipelines#13476 (open). Every TF-saved directory
(Transform graph, Model, the baseline copy) has such markers. Deleting them after
the executor leaves the objects that carry data untouched; GCS has no directories
of its own, so listing and reading work the same without them. sky-uk/kfp-operator
does the same after each executor.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

GCS_SCHEME = "gs://"


def remove_directory_markers(uris: Iterable[str], client=None) -> list[str]:
    """Deletes the `.../` zero-byte objects under each gs:// URI; returns the gs:// URIs deleted.

    Args:
        uris: output artifact URIs; those not on GCS are ignored.
        client: a `google.cloud.storage.Client`; by default one with the pod's credentials.
    """
    uris = [uri for uri in uris if uri.startswith(GCS_SCHEME)]
    if not uris:
        return []
    if client is None:
        from google.cloud import storage

        client = storage.Client()
    removed = []
    for uri in uris:
        bucket, _, prefix = uri[len(GCS_SCHEME) :].partition("/")
        for blob in client.list_blobs(bucket, prefix=prefix.rstrip("/") + "/"):
            if blob.name.endswith("/") and not blob.size:
                blob.delete()
                removed.append(f"{GCS_SCHEME}{bucket}/{blob.name}")
    for marker in removed:
        logging.info("removed GCS directory marker %s", marker)
    return removed
