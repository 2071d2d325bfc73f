"""TFX's cache key follows our code and our data: the compiled pipeline's execution properties.

TFX keys a component's cache on its inputs and execution properties, so these
tests compare the compiled pipeline IR (what LocalDagRunner executes) of the
code as it is with that of an edited copy, instead of running the pipeline.
One real rerun after an edit is in tests/test_reruns.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from components.tfds_example_gen.data_fingerprint import (
    NOT_PREPARED,
    data_fingerprint,
    is_fingerprint,
)
from core.code_fingerprint import code_fingerprint
from core.config import PipelineConfig
from tests.conftest import REPO_ROOT
from tests.helpers import copy_of_the_code

# Prints compiled_parameters_here(data dir, output dir) from a fresh interpreter.
COMPILE_SCRIPT = (
    "import json, sys; from tests.pipeline.test_cache_keys import compiled_parameters_here; "
    "print(json.dumps(compiled_parameters_here(sys.argv[1], sys.argv[2])))"
)


def compile_with(code_root, data_dir, output_dir) -> subprocess.Popen:
    """Compiles the pipeline in a fresh interpreter that imports the code under `code_root`."""
    return subprocess.Popen(
        [sys.executable, "-c", COMPILE_SCRIPT, str(data_dir), str(output_dir)],
        # Our packages from the copy, tests from this checkout.
        env={**os.environ, "PYTHONPATH": f"{code_root}{os.pathsep}{REPO_ROOT}"},
        cwd=code_root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def parameters_printed_by(process: subprocess.Popen) -> dict[str, dict]:
    out, err = process.communicate()
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def custom_config(parameters: dict, node: str) -> dict:
    return json.loads(parameters[node]["custom_config"])


def test_an_edit_changes_the_cache_key_of_exactly_the_components_that_run_it(
    tmp_path, sample_data_dir
):
    edits = {
        "trainer and example gen": copy_of_the_code(
            tmp_path / "trainer",
            "trainer_module/training.py",
            "components/tfds_example_gen/image_cleaning.py",
        ),
        # pixels.py is imported by preprocessing and by the trainer (serving, data).
        "preprocessing": copy_of_the_code(tmp_path / "pre", "trainer_module/pixels.py"),
    }
    processes = {
        name: compile_with(root, sample_data_dir, tmp_path / "out") for name, root in edits.items()
    }
    as_is = compiled_parameters_here(sample_data_dir, tmp_path / "out")
    compiled = {name: parameters_printed_by(process) for name, process in processes.items()}

    def changed(name: str) -> set[str]:
        return {node for node in as_is if as_is[node] != compiled[name][node]}

    # The Pusher's recipe fingerprint follows every component up to the Trainer; it
    # costs no extra run: the Pusher re-runs anyway when the Trainer gives a new model.
    assert changed("trainer and example gen") == {"Trainer", "TfdsExampleGen", "Pusher"}
    assert changed("preprocessing") == {"Transform", "Trainer", "Pusher"}
    for name in compiled:
        edited = custom_config(compiled[name], "Pusher")
        assert edited.pop("recipe_fingerprint") != custom_config(as_is, "Pusher").pop(
            "recipe_fingerprint"
        )
    for name in compiled:  # only the fingerprint differs
        edited = custom_config(compiled[name], "Trainer")
        assert edited.pop("code_fingerprint") != custom_config(as_is, "Trainer")["code_fingerprint"]
        assert edited == {
            k: v for k, v in custom_config(as_is, "Trainer").items() if k != "code_fingerprint"
        }
    assert "code_fingerprint" in custom_config(as_is, "Pusher")


def compiled_parameters_here(data_dir, output_dir) -> dict[str, dict]:
    """{node id: {execution property: value}} of the compiled pipeline (TFX's IR)."""
    from tfx.dsl.compiler import compiler

    from pipeline.create import create_pipeline

    config = PipelineConfig.for_profile(
        "sample", data_dir=str(data_dir), output_dir=str(output_dir)
    )
    ir = compiler.Compiler().compile(create_pipeline(config))
    return {
        node.pipeline_node.node_info.id: {
            name: value.field_value.string_value or value.field_value.int_value
            for name, value in node.pipeline_node.parameters.parameters.items()
        }
        for node in ir.nodes
    }


def test_a_trainer_only_edit_leaves_the_preprocessing_fingerprint_alone(tmp_path):
    root = copy_of_the_code(tmp_path / "code")
    before = {
        m: code_fingerprint(m, str(root))
        for m in ("trainer_module.run", "trainer_module.preprocessing")
    }
    with open(root / "trainer_module" / "model.py", "a") as f:
        f.write("\n# an edit\n")
    after = {m: code_fingerprint(m, str(root)) for m in before}
    assert after["trainer_module.run"] != before["trainer_module.run"]
    assert after["trainer_module.preprocessing"] == before["trainer_module.preprocessing"]
    with pytest.raises(FileNotFoundError, match="trainer_module.nothing"):
        code_fingerprint("trainer_module.nothing", str(root))


# ---- data ----


def prepared_copy(sample_data_dir, tmp_path) -> str:
    data_dir = tmp_path / "tfds"
    shutil.copytree(sample_data_dir, data_dir, copy_function=shutil.copy2)
    return str(data_dir)


def fingerprint_of(data_dir: str, version: str = "") -> str:
    data = PipelineConfig.for_profile("sample").data
    return data_fingerprint(data_dir, data.dataset_name, version, data.splits().values())


def test_the_data_fingerprint_changes_when_the_data_is_prepared_again(sample_data_dir, tmp_path):
    data_dir = prepared_copy(sample_data_dir, tmp_path)
    first = fingerprint_of(data_dir)
    assert fingerprint_of(data_dir) == first  # nothing changed: same key, cache hit
    assert fingerprint_of(data_dir, "4.0.1") == first  # the newest version is the default
    (version_dir,) = [
        os.path.join(folder, "")
        for folder, _, files in os.walk(data_dir)
        if "dataset_info.json" in files
    ]
    (shard,) = [name for name in os.listdir(version_dir) if ".tfrecord" in name]
    # Rewritten in place with other bytes (same name, same version).
    with open(os.path.join(version_dir, shard), "ab") as f:
        f.write(b"\0")
    assert fingerprint_of(data_dir) != first
    assert fingerprint_of(str(tmp_path / "nowhere")) == NOT_PREPARED
    # Only a digest is recorded on the Examples for the Pusher, never a marker.
    assert is_fingerprint(first) and not any(map(is_fingerprint, (NOT_PREPARED, "")))


def test_a_file_of_a_split_that_is_not_read_does_not_change_the_fingerprint(
    sample_data_dir, tmp_path
):
    data_dir = prepared_copy(sample_data_dir, tmp_path)
    first = fingerprint_of(data_dir)
    version_dir = os.path.join(data_dir, "cats_vs_dogs_sample", "4.0.1")
    with open(os.path.join(version_dir, "cats_vs_dogs_sample-validation.tfrecord-00000"), "w"):
        pass  # an empty shard of a split the sample profile does not read
    assert fingerprint_of(data_dir) == first


def test_data_prepared_again_changes_the_cache_key_of_example_gen_only(sample_data_dir, tmp_path):
    data_dir = prepared_copy(sample_data_dir, tmp_path)
    before = compiled_parameters_here(data_dir, tmp_path / "out")
    assert compiled_parameters_here(data_dir, tmp_path / "out") == before  # unchanged: cached
    shard = os.path.join(
        data_dir,
        "cats_vs_dogs_sample",
        "4.0.1",
        "cats_vs_dogs_sample-train.tfrecord-00000-of-00001",
    )
    os.utime(shard, ns=(0, os.stat(shard).st_mtime_ns + 1))  # rewritten in place
    after = compiled_parameters_here(data_dir, tmp_path / "out")
    # Everything downstream re-runs because ExampleGen's new Examples are new inputs.
    assert {node for node in before if before[node] != after[node]} == {"TfdsExampleGen"}


def test_a_remote_data_dir_is_fingerprinted_by_listing_it(sample_data_dir):
    """A bucket's data dir, listed through TensorFlow's file systems. TensorFlow's in-memory
    `ram://` file system stands in for gs:// here (same gfile calls, no network): the
    same files give the same digest, and a rewritten shard changes it."""
    import tensorflow as tf

    bucket = "ram://bucket/tfds"
    for folder, _, files in os.walk(sample_data_dir):
        target = bucket + folder[len(sample_data_dir) :]
        tf.io.gfile.makedirs(target)
        for name in files:
            tf.io.gfile.copy(os.path.join(folder, name), f"{target}/{name}", overwrite=True)
    first = fingerprint_of(bucket)
    assert len(first) == 64 and fingerprint_of(bucket) == first
    version_dir = f"{bucket}/cats_vs_dogs_sample/4.0.1"
    (shard,) = [name for name in tf.io.gfile.listdir(version_dir) if "-train." in name]
    with tf.io.gfile.GFile(f"{version_dir}/{shard}", "ab") as f:
        f.write(b"\0")
    assert fingerprint_of(bucket) != first
    assert fingerprint_of("ram://elsewhere") == NOT_PREPARED


def test_the_recipe_covers_every_component_the_trainer_depends_on_but_not_the_data(tmp_path):
    """A SchemaGen option shapes the schema the Trainer reads: it is part of the recipe."""
    from components.tfds_example_gen.executor import DATA_FINGERPRINT
    from pipeline.create import create_pipeline, recipe_fingerprint, upstream_of

    config = PipelineConfig.for_profile("sample", output_dir=str(tmp_path))
    nodes = {node.id: node for node in create_pipeline(config).components}
    trainer = nodes["Trainer"]
    assert {node.id for node in upstream_of(trainer)} == {
        "TfdsExampleGen", "StatisticsGen", "SchemaGen", "Transform"
    }  # fmt: skip
    recipe = recipe_fingerprint(trainer)
    nodes["TfdsExampleGen"].exec_properties[DATA_FINGERPRINT] = "other data"
    assert recipe_fingerprint(trainer) == recipe  # the data is the other half of the identity
    nodes["SchemaGen"].exec_properties["infer_feature_shape"] = 0
    assert recipe_fingerprint(trainer) != recipe
