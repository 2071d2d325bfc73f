"""The feature contract: the names every stage agrees on, from ExampleGen to serving.

Whatever a dataset calls its image and label, TfdsExampleGen writes them under
these keys; Transform reads them and writes `PIXELS_KEY`; the Trainer, the
Evaluator and the serving signatures read what Transform wrote.
"""

# Raw features, as TfdsExampleGen writes them (tf.Example).
IMAGE_KEY = "image"  # bytes: an RGB JPEG
LABEL_KEY = "label"  # int64: the class index
FILENAME_KEY = "image/filename"  # bytes: the source file name, when the dataset has one
ID_KEY = "tfds_id"  # bytes: TFDS's stable example id, '<shard file>__<index>'
# Transformed feature: the resized image as a serialized uint8 HxWx3 tensor.
PIXELS_KEY = "pixels"
CLASS_NAMES = ("cat", "dog")
# Unique per example: no value domain, never an anomaly for an unseen value.
UNIQUE_KEYS = (FILENAME_KEY, ID_KEY)
# The schema's global string domain holding the label's class names, in label order.
CLASS_NAMES_DOMAIN = "label_class_names"


def class_names_of(schema) -> tuple[str, ...]:
    """The class names the curated schema carries (a tensorflow_metadata Schema); () if none."""
    for domain in schema.string_domain:
        if domain.name == CLASS_NAMES_DOMAIN:
            return tuple(domain.value)
    return ()
