"""`python -m pipeline predict` through `serving_image_bytes`, on the session's e2e model."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

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
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    # The bad files come first and in between: neither may stop the ones after it.
    order = ("broken.png", "dog.jpg", "missing.jpg", "dog.png", "dog_gray.png")
    paths = [str(tmp_path / name) for name in order]

    result = run_cli("predict", *paths, "--output-dir", str(e2e_run.output_dir), cwd=tmp_path)

    lines = dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)
    assert lines[str(tmp_path / "broken.png")].startswith("error: cannot decode")
    assert lines[str(tmp_path / "missing.jpg")].startswith("error: cannot read")
    for name in ("dog.jpg", "dog.png", "dog_gray.png"):
        probability = float(lines[str(tmp_path / name)].split("\t")[1])
        assert 0.0 <= probability <= 1.0
    assert result.returncode == 1  # some files failed, the others were still scored
