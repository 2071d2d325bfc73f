"""The Beam components on Beam's portable runner, with SDK workers in separate processes, give
what the DirectRunner gives (`make portable-test`; not part of `make test`: two more pipeline
runs).

Beam's own job service and an external worker pool (pipeline.portable_beam) run here, as a
user would start them; the pipeline runs through the CLI as a user types it, with
`--beam-runner PortableRunner` and the services' options. ExampleGen, StatisticsGen,
Transform and the Evaluator then run every bundle in a worker process of the pool, which
imports the project as installed, not the process that built the pipeline: the image
checks and their counts, the written-examples counts (on, since any runner but the
single-worker DirectRunner can run bundles in parallel), and the TFRecord shims, which are
not applied in the worker (they are scoped to the executor's process: output identical,
only slower). What is compared with the DirectRunner's e2e run on the same data: split
counts, skipped and converted images, the transformed examples' decoded content, the
blessing and the test metrics.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import tensorflow as tf

from pipeline.portable_beam import portable_services
from tests.conftest import PipelineRun, run_cli, sample_run_args

pytestmark = pytest.mark.portable


@pytest.fixture(scope="module")
def portable_run(tmp_path_factory, e2e_run) -> PipelineRun:
    output_dir = tmp_path_factory.mktemp("portable")
    with portable_services(str(output_dir / "beam_services")) as services:
        process = run_cli(
            *sample_run_args(e2e_run.data_dir, output_dir),
            "--beam-runner", "PortableRunner", f"--beam-options={services.beam_options}",
            cwd=output_dir,
        )  # fmt: skip
    assert process.returncode == 0, process.stdout + process.stderr
    return PipelineRun(process, output_dir, e2e_run.data_dir)


def transformed_files(run: PipelineRun) -> list[Path]:
    root = run.output_dir / "pipeline_root" / "Transform" / "transformed_examples"
    return sorted(root.glob("*/Split-*/*.gz"))


def transformed_digests(run: PipelineRun) -> dict[str, str]:
    """Per split, a digest of the decoded transformed examples (order-free)."""
    splits: dict[str, list[str]] = {}
    for path in transformed_files(run):
        splits.setdefault(path.parent.name, []).append(str(path))
    digests = {}
    for split, files in splits.items():
        records = sorted(
            hashlib.sha256(
                tf.train.Example.FromString(r).SerializeToString(deterministic=True)
            ).hexdigest()
            for r in tf.data.TFRecordDataset(files, "GZIP").as_numpy_iterator()
        )
        digests[split] = hashlib.sha256("".join(records).encode()).hexdigest()
    return digests


def test_the_portable_runner_ran_the_beam_components_in_the_worker_pool(portable_run):
    beam_jobs = (portable_run.output_dir / "beam_services" / "job_service.log").read_text()
    assert beam_jobs.count("Completed job") >= 4  # ExampleGen, StatisticsGen, Transform, TFMA
    assert "with state DONE" in beam_jobs and "FAILED" not in beam_jobs


def test_split_counts_skipped_and_converted_images_equal_the_direct_runners(
    portable_run, e2e_run
):
    for key in ("split_counts", "skipped_images", "converted_images", "class_names"):
        assert portable_run.summary[key] == e2e_run.summary[key], key


def test_the_transformed_examples_equal_the_direct_runners(portable_run, e2e_run):
    portable, direct = transformed_digests(portable_run), transformed_digests(e2e_run)
    assert set(portable) == {"Split-train", "Split-eval"}
    assert portable == direct


def test_the_model_is_blessed_the_same_way_on_the_same_metrics(portable_run, e2e_run):
    assert portable_run.summary["blessed"] is e2e_run.summary["blessed"] is True
    assert portable_run.summary["eval_metrics"] == pytest.approx(
        e2e_run.summary["eval_metrics"], abs=1e-6
    )


def test_the_tfrecord_shims_stay_in_the_executors_process_and_only_speed_differs(
    portable_run, e2e_run
):
    """The shims (core.shims) apply around the executor's Do, in its process. On the
    portable runner the files are written in the worker process, at Beam's default zlib
    level: smaller than the DirectRunner's stored blocks, the same examples (digests above),
    and every record's checksum verified by TensorFlow while counting them."""
    portable, direct = transformed_files(portable_run), transformed_files(e2e_run)
    assert sum(p.stat().st_size for p in portable) < 0.9 * sum(p.stat().st_size for p in direct)
    counts = portable_run.summary["split_counts"]
    read = sum(1 for f in portable for _ in tf.data.TFRecordDataset(str(f), "GZIP"))
    assert read == counts["train"] + counts["eval"]
