"""Beam bundles sample their state at the short period inside the block, at Beam's default after."""

import argparse

import apache_beam as beam
import pytest
from apache_beam.runners.worker import statesampler
from apache_beam.testing.util import assert_that, equal_to

from components import beam_state_sampling


def assert_bundles_sample_every(milliseconds: int) -> None:
    """Runs a real in_memory Beam pipeline whose elements are their bundle's sampling period."""
    with beam.Pipeline(argv=["--direct_running_mode=in_memory"]) as pipeline:
        periods = (
            pipeline
            | beam.Create(range(3))
            | beam.Map(lambda _: statesampler.get_current_tracker().sampling_period_ms)
        )
        assert_that(periods, equal_to([milliseconds] * 3))


def test_bundles_use_the_period_only_inside_the_block():
    with beam_state_sampling.state_sampling_period(7):
        assert_bundles_sample_every(7)
    assert_bundles_sample_every(statesampler.DEFAULT_SAMPLING_PERIOD_MS)


def test_a_period_under_one_millisecond_is_refused():
    with pytest.raises(ValueError, match="at least 1 ms"):
        with beam_state_sampling.state_sampling_period(0):
            pass


def _period_while(monkeypatch, owner, name: str) -> list[tuple]:
    """Replaces `owner.name` with a recorder of the sampler's default period when called."""
    seen: list[tuple] = []
    monkeypatch.setattr(
        owner, name, lambda *args: seen.append(statesampler.StateSampler.__init__.__defaults__)
    )
    return seen


def test_the_local_runner_runs_every_component_with_the_short_period(monkeypatch):
    from pipeline import local_runner

    seen = _period_while(monkeypatch, local_runner.LocalDagRunner, "run")
    local_runner.run_dag(pipeline=None)
    assert seen == [(beam_state_sampling.SHORT_PERIOD_MS,)]
    assert statesampler.StateSampler.__init__.__defaults__ == (
        statesampler.DEFAULT_SAMPLING_PERIOD_MS,
    )


def test_each_kubeflow_task_runs_its_executor_with_the_short_period(monkeypatch):
    from kubeflow import executor_entrypoint

    seen = _period_while(monkeypatch, executor_entrypoint.kubeflow_v2_run_executor, "main")
    args = argparse.Namespace(
        json_serialized_invocation_args="{}", json_serialized_inputs_spec_args=""
    )
    executor_entrypoint.main((args, []))
    assert seen == [(beam_state_sampling.SHORT_PERIOD_MS,)]
