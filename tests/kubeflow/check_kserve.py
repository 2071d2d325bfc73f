"""Validates kubeflow/serving/inferenceservice.yaml against KServe's own model classes.

kserve is not in the project's lock (it pins a Kubernetes client and a web stack the
pipeline does not need); run this where it is installed:

    uv venv /tmp/kserve && uv pip install --python /tmp/kserve/bin/python kserve pyyaml
    /tmp/kserve/bin/python tests/kubeflow/check_kserve.py

Each mapping of the manifest is built into the class the field's declared type names
(`openapi_types`, `attribute_map` of kserve's generated classes, and of the Kubernetes
client's for Kubernetes' own types such as V1ObjectMeta): a key that no class declares
is an error, and so is a required field left out (the classes' constructors check
them). Then what the TensorFlow runtime needs: the model format and a storage URI.
(kserve's own deserializer is not used: kserve 0.21 cannot read the type names of the
Kubernetes client it installs, 37.x, e.g. `Dict[str, str]`.)
"""

import importlib.metadata
import os
import re
import sys

import kserve.models
import kubernetes.client.models
import yaml

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFEST = os.path.join(REPOSITORY, "kubeflow", "serving", "inferenceservice.yaml")


def build(data, type_name: str, path: str, problems: list[str]):
    """`data` as an instance of `type_name`, recording each field no class declares."""
    generic = re.fullmatch(r"(?:list\[|List\[)(.+)\]", type_name)
    if generic:
        return [
            build(item, generic.group(1), f"{path}[{i}]", problems) for i, item in enumerate(data)
        ]
    generic = re.fullmatch(r"(?:dict\(str, |Dict\[str, )(.+)[\)\]]", type_name)
    if generic:
        return {k: build(v, generic.group(1), f"{path}/{k}", problems) for k, v in data.items()}
    cls = getattr(kserve.models, type_name, None) or getattr(
        kubernetes.client.models, type_name, None
    )
    if cls is None:  # str, int, object, ...
        return data
    by_key = {key: attr for attr, key in cls.attribute_map.items()}
    kwargs = {}
    for key, value in data.items():
        if key not in by_key:
            problems.append(f"{path}/{key}: not a field of {type_name}")
            continue
        attr = by_key[key]
        kwargs[attr] = build(value, cls.openapi_types[attr], f"{path}/{key}", problems)
    try:
        return cls(**kwargs)
    except ValueError as error:  # a required field is missing or a value is out of range
        problems.append(f"{path}: {error}")
        return None


def main() -> int:
    with open(MANIFEST) as f:
        manifest = yaml.safe_load(f)
    problems: list[str] = []
    service = build(manifest, "V1beta1InferenceService", "", problems)
    model = service.spec.predictor.model if service else None
    if model is not None and model.model_format.name != "tensorflow":
        problems.append(f"modelFormat {model.model_format.name!r}, not tensorflow")
    if model is not None and not model.storage_uri:
        problems.append("no storageUri")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        version = importlib.metadata.version("kserve")
        print(
            f"{MANIFEST}: a valid V1beta1InferenceService for kserve {version} "
            f"({model.storage_uri})"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
