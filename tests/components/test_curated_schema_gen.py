"""Schema curation: unique features lose the domain TFDV inferred; the label gets its ClassLabel."""

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.curated_schema_gen.curation import curate
from core import features

INFERRED = """
feature { name: "image" type: BYTES }
feature { name: "image/filename" type: BYTES domain: "image/filename" }
feature { name: "tfds_id" type: BYTES string_domain { value: "a__0" value: "a__1" } }
feature { name: "label" type: INT bool_domain {} }
string_domain { name: "image/filename" value: "1.jpg" value: "2.jpg" }
"""


def inferred() -> schema_pb2.Schema:
    return text_format.Parse(INFERRED, schema_pb2.Schema())


def feature(schema: schema_pb2.Schema, name: str) -> schema_pb2.Feature:
    (found,) = [f for f in schema.feature if f.name == name]
    return found


def test_unique_features_carry_no_domain():
    curated = curate(inferred(), ["cat", "dog"])
    for name in features.UNIQUE_KEYS:
        assert feature(curated, name).WhichOneof("domain_info") is None
    assert [d.name for d in curated.string_domain] == [features.CLASS_NAMES_DOMAIN]


def test_label_domain_and_class_names_come_from_the_class_label():
    curated = curate(inferred(), ["beans_healthy", "angular_leaf_spot", "bean_rust"])
    label = feature(curated, features.LABEL_KEY)
    assert (label.int_domain.min, label.int_domain.max) == (0, 2)
    assert label.int_domain.is_categorical
    assert features.class_names_of(curated) == ("beans_healthy", "angular_leaf_spot", "bean_rust")


def test_without_class_names_the_inferred_label_domain_stays():
    curated = curate(inferred(), [])
    assert feature(curated, features.LABEL_KEY).WhichOneof("domain_info") == "bool_domain"
    assert features.class_names_of(curated) == ()


def test_curation_is_idempotent_and_leaves_its_input_alone():
    original = inferred()
    once = curate(original, ["cat", "dog"])
    assert curate(once, ["cat", "dog"]) == once
    assert original == inferred()
