"""Custom properties on artifacts: what our components and TFX's record, read by the summary.

The names are the contract between the writers (TfdsExampleGen,
BaselineLookup) and the readers (the run summary, the report, the model
registry), so neither side has to import the other.
"""

# On TfdsExampleGen's Examples artifact (JSON strings where structured).
TFDS_NAME = "tfds_name"
TFDS_VERSION = "tfds_version"
TFDS_DATA_DIR = "tfds_data_dir"
TFDS_SPLITS = "tfds_splits"  # {"train": "train[:40%]", ...}
SPLIT_COUNTS = "split_counts"  # {"train": 118, ...}
SKIPPED_IMAGES = "skipped_images"  # {"train": {"truncated": 1}, ...}
CONVERTED_IMAGES = "converted_images"  # {"train": {"grayscale": 2}, ...}
CLASS_NAMES = "class_names"  # ["cat", "dog"]: the label's ClassLabel names, in label order
# The prepared files read, fingerprinted when the component ran (data_fingerprint).
DATA_FINGERPRINT = "data_fingerprint"

# BaselineLookup's answer on Kubeflow: its String output, and the Evaluator's parameter
# of this name: JSON {"model_id": ..., "uri": ..., "run_id": ...}, "" when none is blessed.
LOOKED_UP_BASELINE = "baseline"

# On a PushedModel artifact (TFX's Pusher contract; promotions write the same).
PUSHED = "pushed"
PUSHED_DESTINATION = "pushed_destination"
PUSHED_VERSION = "pushed_version"
# On a PushedModel artifact of a model the serving directory already holds as its
# latest version: nothing was copied (`pushed` is 0); these say where it is served.
ALREADY_SERVING_VERSION = "already_serving_version"
ALREADY_SERVING_PATH = "already_serving_path"
# On a PushedModel artifact: the data + recipe the model was trained from (VersionedPusher).
TRAINING_IDENTITY = "training_identity"

# On a ModelBlessing artifact (TFX's Evaluator contract): 1 when the model passed the thresholds.
BLESSED = "blessed"
# On a ModelBlessing artifact: why the latest blessed model was no baseline (another task's).
BASELINE_SKIPPED = "baseline_skipped"

# On an InfraBlessing artifact (ServingCheck; `blessed` as TFX's InfraValidator sets it): the
# check's verdict as JSON (components.serving_check.verdict.ServingCheckResult).
SERVING_CHECK = "serving_check"

# On a Model artifact (the Trainer): the task it is for, so that a baseline is one of the same.
MODEL_NAME = "model_name"  # the name it is served under
DATASET = "dataset"  # the TFDS dataset it was trained on
SERVING_SIGNATURES = "serving_signatures"  # JSON list of its signature keys
# (and CLASS_NAMES, its label's class names in label order)

# On split-aware artifacts (Examples, ExampleStatistics, ExampleAnomalies): JSON list of splits.
SPLIT_NAMES = "split_names"
