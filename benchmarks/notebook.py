"""The notebook the pipeline replaces: the Keras guide as one plain script, timed by phase.

Nothing from the project but the sample dataset's TFDS files (and, with
--trainer-start-up-fixes, the Trainer's AutoGraph rule and tf.data options): tfds.load, decode
and resize in tf.data, keras.applications.Xception, compile/fit, evaluate. Used
as the baseline of benchmarks.notebook_overhead (run as its own process, so its
imports are timed like the pipeline's) and, for its model, of
benchmarks.trainer_throughput.

    python -m benchmarks.notebook --data-dir DIR [--json OUT] [--image-size 96] ...
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402

import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402
import tf_keras as keras  # noqa: E402

_IMPORTED = time.perf_counter()


def guide_model(image_size: int, weights: str | None = None) -> tuple[keras.Model, keras.Model]:
    """(model, base): uint8 images -> augment -> rescale -> Xception -> pool -> dropout -> logit."""
    base = keras.applications.Xception(
        weights=weights, input_shape=(image_size, image_size, 3), include_top=False
    )
    base.trainable = False
    inputs = keras.Input(shape=(image_size, image_size, 3), dtype=tf.uint8)
    x = tf.cast(inputs, tf.float32)
    x = keras.layers.RandomFlip("horizontal")(x)
    x = keras.layers.RandomRotation(0.1)(x)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x)), base


def compile_stage(model: keras.Model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="cats_vs_dogs_sample")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--head-epochs", type=int, default=4)
    parser.add_argument("--fine-tune-epochs", type=int, default=1)
    parser.add_argument("--json", default=None, help="write the phase seconds here")
    parser.add_argument(
        "--trainer-start-up-fixes",
        action="store_true",
        help="the Trainer's AutoGraph rule (core.shims.tf_keras_left_unconverted) and its tf.data "
        "options without autotuning (trainer_module.data.without_autotuning)",
    )
    args = parser.parse_args()
    phases = {"imports": _IMPORTED - _STARTED}
    options = tf.data.Options()
    if args.trainer_start_up_fixes:
        from core import shims
        from trainer_module import data

        shims.tf_keras_left_unconverted().__enter__()  # for the whole notebook run
        options = data.without_autotuning()

    def load(split: str, shuffle: bool) -> tf.data.Dataset:
        data = tfds.load(
            args.dataset,
            split=split,
            data_dir=args.data_dir,
            as_supervised=True,
            download=False,
            # The bytes decoded in tf.data below, not by TFDS: a few files are not clean JPEGs.
            decoders={"image": tfds.decode.SkipDecoding()},
        )

        def prepare(image, label):
            image = tf.io.decode_image(image, channels=3, expand_animations=False)
            image = tf.image.resize(image, (args.image_size, args.image_size))
            return tf.cast(image, tf.uint8), tf.cast(label, tf.float32)

        data = data.map(prepare, tf.data.AUTOTUNE).ignore_errors()  # undecodable files
        if shuffle:
            data = data.shuffle(1024, seed=1)
        return data.batch(args.batch_size).prefetch(tf.data.AUTOTUNE).with_options(options)

    started = time.perf_counter()
    train, validation, test = (
        load(split, shuffle)
        for split, shuffle in (
            ("train[:40%]", True),
            ("train[40%:50%]", False),
            ("train[50%:60%]", False),
        )
    )
    model, base = guide_model(args.image_size)
    phases["data + model"] = time.perf_counter() - started

    for stage, learning_rate, epochs in (
        ("head", 1e-3, args.head_epochs),
        ("fine_tune", 1e-5, args.fine_tune_epochs),
    ):
        base.trainable = stage == "fine_tune"
        compile_stage(model, learning_rate)
        started = time.perf_counter()
        model.fit(train, epochs=epochs, validation_data=validation, verbose=0)
        phases[stage] = time.perf_counter() - started

    started = time.perf_counter()
    _, accuracy = model.evaluate(test, verbose=0)
    phases["evaluate"] = time.perf_counter() - started
    phases["total"] = time.perf_counter() - _STARTED
    print(json.dumps({"seconds": phases, "test_accuracy": accuracy}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seconds": phases, "test_accuracy": accuracy}, f)


if __name__ == "__main__":
    main()
