"""`python -m pipeline predict` through `serving_image_bytes`, on the session's e2e model."""

from __future__ import annotations

import io
import os
import random

import pytest
from PIL import Image

from components.serving_check.requests import png_declaring
from pipeline.sample_data import draw_image
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e


def test_predict_scores_jpeg_and_png_and_names_each_unreadable_file(e2e_run, tmp_path):
    jpeg = draw_image(1, random.Random(3))
    files = {"dog.jpg": jpeg}
    for name, mode in (("dog.png", "RGB"), ("dog_gray.png", "L")):
        buffer = io.BytesIO()
        Image.open(io.BytesIO(jpeg)).convert(mode).save(buffer, format="PNG")
        files[name] = buffer.getvalue()
    files["broken.png"] = b"\x89PNG\r\n\x1a\n not really a png"
    files["bomb.png"] = png_declaring(20_000, 20_000)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    # The bad files come first and in between: neither may stop the ones after it.
    order = ("broken.png", "dog.jpg", "missing.jpg", "bomb.png", "dog.png", "dog_gray.png")
    paths = [str(tmp_path / name) for name in order]

    result = run_cli("predict", *paths, "--output-dir", str(e2e_run.output_dir), cwd=tmp_path)

    lines = dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)
    assert lines[str(tmp_path / "broken.png")] == (
        "error: refused by the model: truncated PNG file (it ends before its last section)"
    )
    assert lines[str(tmp_path / "bomb.png")] == (
        "error: refused by the model: the image declares 20000x20000 pixels, above the limit "
        "of 25000000"
    )
    assert lines[str(tmp_path / "missing.jpg")].startswith("error: cannot read")
    for name in ("dog.jpg", "dog.png", "dog_gray.png"):
        probability = float(lines[str(tmp_path / name)].split("\t")[1])
        assert 0.0 <= probability <= 1.0
    assert result.returncode == 1  # some files failed, the others were still scored


def test_predict_skips_newer_versions_that_are_incomplete_or_do_not_load(e2e_run, tmp_path, capsys):
    from pipeline.cli import main

    serving = tmp_path / "out" / "serving" / "cats_vs_dogs_sample"
    serving.mkdir(parents=True)
    os.symlink(e2e_run.summary["pushed_model_dir"], serving / "1")
    (serving / "2" / "variables").mkdir(parents=True)  # incomplete: no saved_model.pb
    (serving / "3" / "variables").mkdir(parents=True)  # complete-looking but corrupt
    (serving / "3" / "saved_model.pb").write_bytes(b"not a protocol buffer")
    (serving / "3" / "variables" / "variables.index").write_bytes(b"")
    image = tmp_path / "dog.jpg"
    image.write_bytes(draw_image(1, random.Random(3)))

    code = main(["predict", str(image), "--output-dir", str(tmp_path / "out")])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"model: {serving / '1'}" in captured.out
    assert f"warning: cannot load the SavedModel in {serving / '3'}: " in captured.err
    assert "warning: version 2 is incomplete (saved_model.pb, " in captured.err
    class_name, probability = captured.out.splitlines()[-1].split("\t")[1:]
    assert class_name in ("cat", "dog") and 0.0 <= float(probability) <= 1.0


def test_without_model_flags_predict_uses_the_one_model_served_or_asks_which(tmp_path, capsys):
    from pipeline.cli import main

    serving = tmp_path / "out" / "serving"
    (serving / "my_photos" / "1").mkdir(parents=True)
    image = tmp_path / "dog.jpg"
    image.write_bytes(draw_image(1, random.Random(3)))
    # one model served: that one (here an empty version, so it says what is missing there)
    assert main(["predict", str(image), "--output-dir", str(tmp_path / "out")]) == 2
    assert f"no complete pushed model under {serving / 'my_photos'}" in capsys.readouterr().err
    (serving / "tf_flowers" / "3").mkdir(parents=True)
    assert main(["predict", str(image), "--output-dir", str(tmp_path / "out")]) == 2
    assert (
        f"error: {serving} serves the models my_photos, tf_flowers: pass --model-name NAME"
        in capsys.readouterr().err
    )
