"""Faults around a run end with one message that names the problem and the fix."""

from __future__ import annotations

import pytest

from core.config import PipelineConfig


def test_an_output_dir_that_cannot_be_created_is_one_clear_error(tmp_path, sample_data_dir):
    from pipeline.local_runner import run_locally

    in_the_way = tmp_path / "a_file"
    in_the_way.write_text("not a directory")
    config = PipelineConfig.for_profile(
        "sample", data_dir=sample_data_dir, output_dir=str(in_the_way / "outputs")
    )
    with pytest.raises(RuntimeError) as raised:
        run_locally(config)
    message = str(raised.value)
    assert message.startswith(f"cannot write to the output directory {in_the_way / 'outputs'}: ")
    assert "choose another --output-dir" in message


def test_predict_model_on_a_directory_that_is_not_a_saved_model(tmp_path, capsys):
    from pipeline.cli import main

    (tmp_path / "model").mkdir()
    image = tmp_path / "dog.jpg"
    image.write_bytes(b"\xff\xd8")
    code = main(["predict", str(image), "--model", str(tmp_path / "model")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'model'} is not a SavedModel (no saved_model.pb)")
    assert "Traceback" not in err
