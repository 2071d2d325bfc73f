"""The guide's transfer model: a frozen base (Xception, or `--backbone`) with a new head.

Reads top to bottom like the guide: augmentation and rescaling inside the
model, the base called in inference mode, pooling, dropout, one logit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import tensorflow as tf
import tf_keras as keras

from core import backbones
from core.config import WEIGHTS_IMAGENET, WEIGHTS_NONE, TrainingConfig
from trainer_module import devices, objective

XCEPTION_NOTOP_WEIGHTS = backbones.weights_file_name("xception", 150)


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights were asked for but are not on this machine."""


def keras_weights_cache_path(backbone: str = "xception", image_size: int = 150) -> str:
    """Where Keras looks for (and would download) the backbone's ImageNet notop weights."""
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(keras_home, "models", backbones.weights_file_name(backbone, image_size))


def resolve_weights(weights: str, backbone: str = "xception", image_size: int = 150) -> str | None:
    """Maps the config's `weights` to the backbone's argument, failing early when offline.

    Keras would otherwise try to download the ImageNet file in the middle of a
    run and fail with a bare URL error.
    """
    file_name = backbones.weights_file_name(backbone, image_size)
    if weights == WEIGHTS_NONE:
        return None
    if weights == WEIGHTS_IMAGENET:
        cached = keras_weights_cache_path(backbone, image_size)
        if not os.path.isfile(cached):
            size = " (83,683,744 bytes)" if backbone == "xception" else ""
            raise WeightsUnavailableError(
                f"ImageNet weights for {backbone} are not in the Keras cache ({cached}) and "
                f"cannot be downloaded here. Copy {file_name}{size} to that path (or set "
                "$KERAS_HOME), or pass --weights /path/to/that.h5, or --weights none."
            )
        return WEIGHTS_IMAGENET
    if not os.path.isfile(weights):
        raise WeightsUnavailableError(
            f"--weights {weights}: no such file. Pass the path of {file_name}, "
            "'imagenet' (Keras cache) or 'none'."
        )
    return weights


def preprocessing_layer(backbone: str) -> keras.layers.Layer:
    """float pixels in [0, 255] -> what the backbone was trained on (its `preprocess_input`)."""
    scaling = backbones.BACKBONES[backbone].scaling
    if scaling == backbones.SCALE_TF:  # Xception, MobileNetV2, ...: [-1, 1]
        return keras.layers.Rescaling(1.0 / 127.5, offset=-1, name="preprocess")
    if scaling == backbones.SCALE_NONE:  # EfficientNet rescales inside the model
        return keras.layers.Identity(name="preprocess")
    return keras.layers.Lambda(
        lambda x: keras.applications.imagenet_utils.preprocess_input(x, mode=scaling),
        name="preprocess",
    )


@dataclass
class TransferModel:
    """The full model and handles on its parts, which share their layers (and weights).

    `base` is what the stages (un)freeze. `features` (pixels -> pooled base output)
    and `head` (pooled features -> logit) exist for the feature-cache fast path:
    training `head` trains the very Dropout and Dense layers of `model`.
    """

    model: keras.Model
    base: keras.Model
    features: keras.Model
    head: keras.Model
    preprocess: keras.layers.Layer  # the backbone's input scaling, also used by recalibration


def build_transfer_model(
    config: TrainingConfig, image_size: int, num_classes: int = 2
) -> TransferModel:
    """Builds the model with the base frozen, ready for `train_head`.

    Layers compute in `config.mixed_precision`; the logit layer is float32 so the
    logits and the loss on them keep full precision. Call it inside the
    distribution strategy's scope so that the variables are mirrored.

    Args:
        config: `weights`, `augment`, `rotation_factor`, `dropout_rate`, `seed` and
            `mixed_precision` shape the model.
        image_size: the side of the square uint8 images it takes (Xception: >= 71).
        num_classes: 2 gives the guide's single logit; more give one logit per class.

    Returns:
        The model (uint8 pixels -> logits, no sigmoid/softmax) with handles on its base,
        feature extractor and head, which share its layers.

    Raises:
        WeightsUnavailableError: `config.weights` names weights that are not on this
            machine (see `resolve_weights`).
    """
    with devices.precision_policy(config.mixed_precision):
        base = getattr(keras.applications, backbones.BACKBONES[config.backbone].keras_name)(
            weights=resolve_weights(config.weights, config.backbone, image_size),
            input_shape=(image_size, image_size, 3),
            include_top=False,
        )
        base.trainable = False

        inputs = keras.Input(shape=(image_size, image_size, 3), dtype=tf.uint8, name="pixels")
        x = tf.cast(inputs, tf.float32)
        if config.augment:
            x = keras.Sequential(
                [
                    # Distinct seeds: with one seed both layers would draw the same stream.
                    keras.layers.RandomFlip("horizontal", seed=config.seed),
                    keras.layers.RandomRotation(config.rotation_factor, seed=config.seed + 1),
                ],
                name="augmentation",
            )(x)
        # Each backbone's own input scaling (Xception: [-1, 1]).
        preprocess = preprocessing_layer(config.backbone)
        x = preprocess(x)
        # training=False keeps the base's BatchNorm layers in inference mode even
        # after the base is unfrozen for fine-tuning: their moving statistics stay
        # the ImageNet ones instead of being wrecked by small, new batches.
        x = base(x, training=False)
        pooled = keras.layers.GlobalAveragePooling2D()(x)
        dropout = keras.layers.Dropout(config.dropout_rate)
        logit = keras.layers.Dense(
            objective.output_units(num_classes), name="logit", dtype="float32"
        )
        outputs = logit(dropout(pooled))
        head_inputs = keras.Input(shape=pooled.shape[1:], name="pooled_features")
        # Built inside the policy too: compile() adds loss scaling for mixed_float16 models.
        return TransferModel(
            model=keras.Model(inputs, outputs, name="transfer_model"),
            base=base,
            features=keras.Model(inputs, pooled, name="feature_extractor"),
            head=keras.Model(head_inputs, logit(dropout(head_inputs)), name="head"),
            preprocess=preprocess,
        )


def recalibrate_batchnorm(
    base: keras.Model, images: tf.Tensor, preprocess: keras.layers.Layer
) -> None:
    """Sets every BatchNorm layer's moving statistics to those of `images`.

    Only for a randomly initialised base (weights "none", the offline sample
    profile): its BatchNorm layers start with mean 0 / variance 1, which makes
    the activations of a deep random network vanish (GAP features ~1e-5), so a
    frozen random base gives a head nothing to learn from. One forward pass in
    training mode with momentum 0 stores each layer's real batch statistics;
    after that the random features carry the images' colour and texture. The
    pretrained base of the real recipe is never touched by this.
    """
    batch_norms = [
        layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    momenta = [layer.momentum for layer in batch_norms]
    was_trainable = base.trainable
    # A frozen BatchNorm layer ignores training=True in Keras 2; unfreeze for the pass.
    base.trainable = True
    for layer in batch_norms:
        layer.momentum = 0.0
    base(preprocess(tf.cast(images, tf.float32)), training=True)
    for layer, momentum in zip(batch_norms, momenta, strict=True):
        layer.momentum = momentum
    base.trainable = was_trainable
