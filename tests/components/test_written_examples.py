"""Counting what reached the files, and when Beam runs bundles in parallel (so must count)."""

import os

import pytest
import tensorflow as tf

from components import written_examples


def write_split(examples_uri: str, split: str, records: int) -> None:
    os.makedirs(os.path.join(examples_uri, f"Split-{split}"))
    path = os.path.join(examples_uri, f"Split-{split}", "data_tfrecord-00000-of-00001.gz")
    with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression_type="GZIP")) as writer:
        for i in range(records):
            writer.write(b"example %d" % i)


@pytest.mark.parametrize(
    ("args", "parallel"),
    [
        (["--direct_running_mode=in_memory", "--direct_num_workers=1"], False),
        (["--direct_running_mode=in_memory", "--direct_num_workers=2"], False),  # Beam: 1
        (["--direct_running_mode=multi_threading", "--direct_num_workers=2"], True),
        (["--direct_running_mode=multi_processing", "--direct_num_workers=0"], True),  # per core
        (["--direct_running_mode=multi_threading", "--direct_num_workers=1"], False),
        (["--runner=DataflowRunner", "--direct_running_mode=in_memory"], True),  # not Direct's
        (["--runner=PortableRunner", "--job_endpoint=localhost:8099"], True),
        (["--runner=FlinkRunner"], True),
        ([], False),  # Beam's defaults: in_memory, one worker
    ],
)
def test_bundles_run_in_parallel_on_every_runner_but_the_one_worker_direct_runner(
    args, parallel
):
    assert written_examples.bundles_run_in_parallel(args) is parallel


def test_complete_splits_pass_and_short_ones_are_named_with_the_fix(tmp_path):
    uri = str(tmp_path)
    write_split(uri, "train", 5)
    write_split(uri, "eval", 2)
    written_examples.check_written(uri, {"train": 5, "eval": 2}, "TfdsExampleGen")

    with pytest.raises(written_examples.LostExamplesError) as error:
        written_examples.check_written(uri, {"train": 6, "eval": 2}, "TfdsExampleGen")
    message = str(error.value)
    assert "TfdsExampleGen" in message and "split train: 5 written of 6" in message
    assert "eval" not in message.split("(")[1]  # only the short split is named
    assert "--beam-direct-running-mode in_memory" in message
