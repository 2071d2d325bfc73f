"""Beam bundles sample their state at the short period inside the block, at Beam's default after."""

import apache_beam as beam
import pytest
from apache_beam.runners.worker import statesampler
from apache_beam.testing.util import assert_that, equal_to
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

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


def test_example_gen_and_transform_run_beam_through_the_mixin():
    from components.fast_transform.executor import Executor as TransformExecutor
    from components.tfds_example_gen.executor import Executor as ExampleGenExecutor

    for executor in (ExampleGenExecutor, TransformExecutor):
        mixin = executor.__mro__.index(beam_state_sampling.ShortStateSamplingExecutor)
        assert mixin < executor.__mro__.index(BaseBeamExecutor) - 1  # before the TFX class
