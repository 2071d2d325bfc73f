"""The Trainer's tf.data input: transformed uint8 examples -> (image batch, label batch)."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from core import features
from core.tfrecords import count_records
from trainer_module import pixels

_SHUFFLE_BUFFER = 1024


def make_dataset(
    file_patterns: list[str],
    tf_transform_output: tft.TFTransformOutput,
    image_size: int,
    batch_size: int,
    shuffle_seed: int | None = None,
) -> tf.data.Dataset:
    """One pass over the transformed examples; shuffled each epoch when a seed is given.

    Everything runs as TF ops in parallel map calls with prefetching: no Python
    per step, so the input never starves the model.

    Args:
        file_patterns: globs of Transform's GZIP TFRecord files of one split.
        tf_transform_output: Transform's output, for the transformed feature spec.
        image_size: the side of the stored square images.
        batch_size: the global batch size (per replica times replicas).
        shuffle_seed: shuffle with this seed, reshuffling every epoch; None: file order.

    Returns:
        Batches of (uint8 images [batch, size, size, 3], float32 labels [batch]).

    Raises:
        FileNotFoundError: no file matches `file_patterns`.
    """
    files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no transformed examples match {file_patterns}")
    feature_spec = tf_transform_output.transformed_feature_spec()

    def parse(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        parsed = tf.io.parse_single_example(serialized, feature_spec)
        image = pixels.decode_pixels(parsed[features.PIXELS_KEY], image_size)
        return image, tf.cast(parsed[features.LABEL_KEY], tf.float32)

    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    # A known length gives `fit`, the custom loop and the feature cache the steps of
    # a pass, for the progress line's ETA; counting reads the files once, unparsed.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(count_records(files)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(_SHUFFLE_BUFFER, seed=shuffle_seed, reshuffle_each_iteration=True)
    return (
        dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(without_autotuning())
    )


def without_autotuning() -> tf.data.Options:
    """tf.data options without the autotuning thread: it costs seconds at every epoch's end.

    `fit` makes a new training iterator each epoch and drops the old one, and with
    autotuning on, dropping it waits for the autotuning model thread
    (RootDataset::Iterator::~Iterator -> UnboundedThreadPool; docs/PERFORMANCE.md has
    the measured wait; the steps themselves ran as fast). AUTOTUNE's
    parallelism and buffers then keep their starting values instead of tuned ones;
    benchmarks.input_pipeline measured the records -> batches rate as high as with
    tuning (docs/PERFORMANCE.md).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return options
