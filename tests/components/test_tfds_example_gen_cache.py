"""TfdsExampleGen in a real LocalDagRunner with sqlite MLMD: cached while the prepared files are
unchanged, run again when they are prepared again in place (same name, same version)."""

from __future__ import annotations

import os
import shutil

from tfx.orchestration import metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.pipeline import Pipeline

from components.tfds_example_gen.component import TfdsExampleGen
from core.config import PipelineConfig
from pipeline.run_summary import summarize_latest_run

PIPELINE_NAME = "example-gen-only"


def run_example_gen(data_dir: str, output_dir: str) -> str:
    """Runs a pipeline of TfdsExampleGen alone; returns its status ('complete' or 'cached')."""
    data = PipelineConfig.for_profile("sample").data
    example_gen = TfdsExampleGen(
        dataset_name=data.dataset_name,
        data_dir=data_dir,
        splits={"train": "train[:20%]"},
        max_image_pixels=data.max_image_pixels,
    )
    metadata_path = os.path.join(output_dir, "metadata.sqlite")
    LocalDagRunner().run(
        Pipeline(
            pipeline_name=PIPELINE_NAME,
            pipeline_root=os.path.join(output_dir, "pipeline_root"),
            components=[example_gen],
            enable_cache=True,
            metadata_connection_config=metadata.sqlite_metadata_connection_config(metadata_path),
        )
    )
    (component,) = summarize_latest_run(metadata_path, PIPELINE_NAME, "sample").components
    return component.status


def test_example_gen_is_cached_until_the_data_is_prepared_again(sample_data_dir, tmp_path):
    data_dir = str(tmp_path / "tfds")
    shutil.copytree(sample_data_dir, data_dir, copy_function=shutil.copy2)
    output_dir = str(tmp_path / "out")
    assert run_example_gen(data_dir, output_dir) == "complete"
    assert run_example_gen(data_dir, output_dir) == "cached"
    version_dir = os.path.join(data_dir, "cats_vs_dogs_sample", "4.0.1")
    (shard,) = [name for name in os.listdir(version_dir) if ".tfrecord" in name]
    # Prepared again: the same records written anew (new modification time).
    path = os.path.join(version_dir, shard)
    os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 1_000_000_000))
    assert run_example_gen(data_dir, output_dir) == "complete"
    assert run_example_gen(data_dir, output_dir) == "cached"
