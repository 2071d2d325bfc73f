"""What we know about the data better than TFDV's inference does, written into the schema.

TFDV infers a string domain for any string feature with few distinct values.
On a small dataset that catches per-example names and ids (`image/filename`,
`tfds_id`), and every eval or test example then raises "Unexpected string
values". Those features are unique by nature: they carry no domain. The label's
domain is not inferred either: it is the dataset's `ClassLabel` (0 .. N-1), and
its class names are kept in the schema, where the Trainer reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from tensorflow_metadata.proto.v0 import schema_pb2

from core import features


def curate(schema: schema_pb2.Schema, class_names: Sequence[str]) -> schema_pb2.Schema:
    """A copy of `schema`: no domain on unique features, the label's domain from its classes.

    Args:
        schema: as SchemaGen inferred it.
        class_names: the dataset's ClassLabel names, in label order; empty: the
            label's inferred domain is kept.

    Returns:
        The curated schema; `features.class_names_of(schema)` gives `class_names` back.
    """
    curated = schema_pb2.Schema()
    curated.CopyFrom(schema)
    dropped_domains = set()
    for feature in curated.feature:
        if feature.name in features.UNIQUE_KEYS:
            if feature.WhichOneof("domain_info") == "domain":
                dropped_domains.add(feature.domain)
            feature.ClearField("domain_info")
        elif feature.name == features.LABEL_KEY and class_names:
            feature.int_domain.CopyFrom(
                schema_pb2.IntDomain(min=0, max=len(class_names) - 1, is_categorical=True)
            )
    still_used = {f.domain for f in curated.feature if f.WhichOneof("domain_info") == "domain"}
    kept = [
        d
        for d in curated.string_domain
        if d.name != features.CLASS_NAMES_DOMAIN
        and (d.name not in dropped_domains or d.name in still_used)
    ]
    del curated.string_domain[:]
    curated.string_domain.extend(kept)
    if class_names:
        curated.string_domain.add(name=features.CLASS_NAMES_DOMAIN, value=list(class_names))
    return curated
