"""The Keras application backbones a run can choose (`--backbone`): pure data, no TensorFlow.

Each entry says what `keras.applications` calls it, the smallest image it
accepts, how it wants its pixels scaled, and the name of its ImageNet "notop"
weights file in `$KERAS_HOME/models` — so the configuration is validated and
preflight names the exact file before TensorFlow is even imported.
"""

from __future__ import annotations

from dataclasses import dataclass

# How a backbone expects its float input, as its `preprocess_input` documents it:
SCALE_TF = "tf"  # [-1, 1]: x / 127.5 - 1
SCALE_TORCH = "torch"  # [0, 1], then ImageNet mean/std per channel
SCALE_CAFFE = "caffe"  # RGB -> BGR, minus the ImageNet channel means, no scaling
SCALE_NONE = "none"  # [0, 255]: the model rescales inside (EfficientNet, ConvNeXt)


@dataclass(frozen=True)
class Backbone:
    keras_name: str  # the class in keras.applications
    min_image_size: int
    scaling: str
    notop_weights: str  # file name; "{rows}" is filled by `weights_file_name`


BACKBONES: dict[str, Backbone] = {
    "xception": Backbone(
        "Xception", 71, SCALE_TF, "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    "efficientnetb0": Backbone("EfficientNetB0", 32, SCALE_NONE, "efficientnetb0_notop.h5"),
    "efficientnetb3": Backbone("EfficientNetB3", 32, SCALE_NONE, "efficientnetb3_notop.h5"),
    "resnet50": Backbone(
        "ResNet50", 32, SCALE_CAFFE, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    "resnet50v2": Backbone(
        "ResNet50V2", 32, SCALE_TF, "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    "mobilenetv2": Backbone(
        "MobileNetV2",
        32,
        SCALE_TF,
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5",
    ),
    "densenet121": Backbone(
        "DenseNet121", 32, SCALE_TORCH, "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    "inceptionv3": Backbone(
        "InceptionV3", 75, SCALE_TF, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
}
# MobileNetV2 ships ImageNet weights for these input sides; Keras loads the 224 ones otherwise.
_MOBILENET_ROWS = (96, 128, 160, 192, 224)


def weights_file_name(backbone: str, image_size: int) -> str:
    """The ImageNet notop weights file Keras looks up in `$KERAS_HOME/models`."""
    rows = image_size if image_size in _MOBILENET_ROWS else 224
    return BACKBONES[backbone].notop_weights.format(rows=rows)
