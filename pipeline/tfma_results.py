"""The Evaluator's result files (TFMA metrics and validation), read without importing TensorFlow.

`tfma.load_metrics` reads these files through TensorFlow, which costs ~15 s
and ~800 MB: too much for `models list` to print a few rows. The files are
plain TFRecords of TFMA's protos, and the proto modules themselves need only
protobuf, so this module reads the records directly and loads the three proto
modules from TFMA's package directory without running the package's
`__init__` (which imports TensorFlow). They are registered under their real
names, so a later `import tensorflow_model_analysis` uses the same modules.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import struct
import sys
import types
from collections.abc import Iterator
from typing import Any

_PACKAGE = "tensorflow_model_analysis"
_PROTO_PACKAGE = f"{_PACKAGE}.proto"
# In dependency order: validation_result_pb2 imports the other two.
_PROTO_MODULES = ("config_pb2", "metrics_for_slice_pb2", "validation_result_pb2")


def load_metrics(evaluation_uri: str) -> Iterator[Any]:
    """The MetricsForSlice records of an Evaluator output (what `tfma.load_metrics` yields)."""
    metrics_for_slice = _proto_module("metrics_for_slice_pb2")
    for record in _records(os.path.join(evaluation_uri, "metrics*")):
        yield metrics_for_slice.MetricsForSlice.FromString(record)


def load_validation_result(evaluation_uri: str) -> Any:
    """The ValidationResult of an Evaluator output (what `tfma.load_validation_result` returns)."""
    validation_result = _proto_module("validation_result_pb2")
    records = list(_records(os.path.join(evaluation_uri, "validations*")))
    if len(records) != 1:
        raise FileNotFoundError(f"expected one validation result in {evaluation_uri}")
    return validation_result.ValidationResult.FromString(records[0])


def _records(pattern: str) -> Iterator[bytes]:
    """The records of uncompressed TFRecord files: length, its CRC, data, its CRC."""
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as f:
            while header := f.read(12):
                (length,) = struct.unpack("<Q", header[:8])
                yield f.read(length)
                f.read(4)


def _proto_module(name: str) -> types.ModuleType:
    full_name = f"{_PROTO_PACKAGE}.{name}"
    if full_name not in sys.modules:
        _load_proto_modules()
    return sys.modules[full_name]


def _load_proto_modules() -> None:
    """Executes TFMA's proto modules under their names, with stand-in parent packages.

    The stand-ins exist only while the modules load (their `from
    tensorflow_model_analysis.proto import ...` lines resolve through
    sys.modules), then are removed so that the real package can still be
    imported later.
    """
    spec = importlib.util.find_spec(_PACKAGE)  # locates the package without running it
    proto_dir = os.path.join(os.path.dirname(spec.origin), "proto")
    stand_ins = []
    for package, path in ((_PACKAGE, os.path.dirname(spec.origin)), (_PROTO_PACKAGE, proto_dir)):
        if package not in sys.modules:
            stand_in = types.ModuleType(package)
            stand_in.__path__ = [path]
            sys.modules[package] = stand_in
            stand_ins.append(package)
    try:
        for name in _PROTO_MODULES:
            full_name = f"{_PROTO_PACKAGE}.{name}"
            if full_name in sys.modules:
                continue
            module_spec = importlib.util.spec_from_file_location(
                full_name, os.path.join(proto_dir, f"{name}.py")
            )
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[full_name] = module
            module_spec.loader.exec_module(module)
    finally:
        for package in stand_ins:
            del sys.modules[package]
