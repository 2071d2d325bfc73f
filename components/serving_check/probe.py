"""A model server's view of a SavedModel: loaded by `tf.saved_model.load`, requests replayed.

Run by the ServingCheck executor as `python -I probe.py MODEL_DIR RESULT_JSON REQUESTS...`
in a fresh process: isolated mode, so neither the project nor PYTHONPATH is on the
path, and it imports TensorFlow and TensorFlow Serving's request protos only (no Keras,
no TensorFlow Transform, none of the project's code), as TF Serving and KServe's
TensorFlow runtime load a model: its signatures and the ops they hold.

Each REQUESTS file is a TFRecord of `PredictionLog`s (the format of
`assets.extra/tf_serving_warmup_requests`); each request is sent to its signature
and the outputs, or the error, recorded in order. The result also records the
process's peak memory after each file, and which modules loading and calling the model
imported beyond those `import tensorflow` itself imports (in TF 2.16 that includes the
`keras` 3 package), so the caller can check that the model needed nothing else.

This file imports nothing of the project, on purpose: it must run without it.
"""

import json
import resource
import sys
import time

# Top-level packages a model server does not have: loading and calling the model must not
# import any of them.
FOREIGN = (
    "keras",
    "tf_keras",
    "tensorflow_transform",
    "tensorflow_model_analysis",
    "tfx",
    "tfx_bsl",
    "apache_beam",
    "core",
    "components",
    "pipeline",
    "trainer_module",
    "kubeflow",
)


def _plain(value):
    """numpy output -> JSON: bytes decoded, floats as they are."""
    if value.dtype.kind in "SO":
        return [_plain_item(v) for v in value.reshape(-1)]
    return value.tolist()


def _plain_item(item):
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else item


def _replay(model, path, tf, prediction_log_pb2):
    results = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        name = request.model_spec.signature_name or "serving_default"
        entry = {"signature": name}
        try:
            signature = model.signatures[name]
            inputs = {key: tf.constant(tf.make_ndarray(t)) for key, t in request.inputs.items()}
            outputs = signature(**inputs)
            entry["outputs"] = {key: _plain(value.numpy()) for key, value in outputs.items()}
        except Exception as error:  # noqa: BLE001 - reported per request, as a server would
            message = str(error).strip().splitlines()
            entry["error"] = f"{type(error).__name__}: {message[0] if message else ''}"
        results.append(entry)
    return results


def main(argv):
    model_dir, result_path, *request_files = argv
    started = time.monotonic()
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    result = {"imported_tensorflow_seconds": round(time.monotonic() - started, 2)}
    imported_by_tensorflow = {name.split(".")[0] for name in sys.modules}
    try:
        model = tf.saved_model.load(model_dir)
    except Exception as error:  # noqa: BLE001 - the model cannot load: that is the finding
        result["load_error"] = f"{type(error).__name__}: {str(error).strip()[:500]}"
    else:
        result["loaded_seconds"] = round(time.monotonic() - started, 2)
        result["signatures"] = sorted(k for k in model.signatures if not k.startswith("__"))
        result["files"] = []
        for path in request_files:
            replies = _replay(model, path, tf, prediction_log_pb2)
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            result["files"].append(
                {"path": path, "replies": replies, "peak_rss_mb": peak_kb // 1024}
            )
    imported = {name.split(".")[0] for name in sys.modules} - imported_by_tensorflow
    result["foreign_modules"] = sorted(imported & set(FOREIGN))
    result["seconds"] = round(time.monotonic() - started, 2)
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1:])
