"""GCS directory markers are removed from output artifacts, and nothing else is.

Against `GcsApiStub`, a loopback stand-in for the Cloud Storage JSON API (see its
docstring); the client is the real google-cloud-storage library.
"""

from __future__ import annotations

from kubeflow.gcs_markers import remove_directory_markers
from tests.kubeflow.gcs_api_stub import GcsApiStub

MODEL = "root/run-1/Trainer/0f3c/model"
# What tf.io.gfile leaves in a bucket after saving a model: markers for each directory.
OBJECTS = {
    f"{MODEL}/": b"",
    f"{MODEL}/Format-Serving/": b"",
    f"{MODEL}/Format-Serving/saved_model.pb": b"graph",
    f"{MODEL}/Format-Serving/variables/": b"",
    f"{MODEL}/Format-Serving/variables/variables.index": b"index",
    f"{MODEL}/Format-Serving/fingerprint.pb": b"",  # an empty file is data, not a marker
    "root/run-1/Trainer/0f3c/model_run/": b"",  # another output, not asked about
    f"{MODEL}-copy/": b"",  # shares the prefix string, not the directory
}


def test_markers_under_the_outputs_are_deleted_and_data_is_kept():
    with GcsApiStub("bucket", dict(OBJECTS)) as gcs:
        removed = remove_directory_markers([f"gs://bucket/{MODEL}"], gcs.client())

    assert sorted(gcs.deleted) == sorted(
        [f"{MODEL}/", f"{MODEL}/Format-Serving/", f"{MODEL}/Format-Serving/variables/"]
    )
    assert removed == [f"gs://bucket/{name}" for name in gcs.deleted]
    assert set(gcs.objects) == set(OBJECTS) - set(gcs.deleted)


def test_local_and_other_scheme_outputs_are_left_alone_without_a_client():
    assert remove_directory_markers(["/tmp/pipeline_root/model", "s3://bucket/model"]) == []
