"""A baseline is a model of the same task: name, classes, serving signatures."""

from __future__ import annotations

from tfx.types import standard_artifacts

from components.model_task.task import Task, why_not_a_baseline

CATS = Task("pets", ("cat", "dog"), ("serving_default", "serving_image_bytes"))


def test_the_same_task_is_a_baseline_and_an_unrecorded_one_is_compared_as_before():
    assert why_not_a_baseline(CATS, CATS) == ""
    assert why_not_a_baseline(CATS, None) == ""  # trained before tasks were recorded


def test_another_name_other_classes_or_other_signatures_are_no_baseline():
    assert why_not_a_baseline(CATS, Task("birds", CATS.class_names, CATS.signatures)) == (
        "it is model 'birds', this is 'pets'"
    )
    three = Task("pets", ("red", "green", "blue"), CATS.signatures)
    assert why_not_a_baseline(three, CATS) == (
        "it has the classes cat, dog; this model red, green, blue"
    )
    older = Task("pets", CATS.class_names, ("serving_default",))
    assert why_not_a_baseline(CATS, older).startswith("it serves serving_default; this model")


def test_the_task_travels_on_the_model_artifact():
    model = standard_artifacts.Model()
    assert Task.of(model) is None
    CATS.record_on(model)
    assert Task.of(model) == CATS
