"""Stops Beam's state sampler from adding up to 200 ms to the end of every bundle.

Every bundle Beam's Python SDK runs starts a state-sampler thread. The thread sleeps
for up to `DEFAULT_SAMPLING_PERIOD_MS` (200 ms) between samples, and the bundle only
ends after `StateSampler.stop()` has joined it (`apache_beam/runners/worker/
statesampler_fast.pyx`, `run` and `stop`). In Beam's default `in_memory` mode the
bundles of a TFX component run one after another in the process, so each fused
stage waits out the rest of the sampler's sleep.

Measured on Transform at the real dataset's size (`benchmarks/data_path.py`, 2
cores; three runs each): a 10 ms period took Transform from 10.8 s to 10.2 s on
average. The sampler only feeds Beam's per-step time counters, which a shorter
period makes finer, not different; its thread sleeps without the GIL.

The period is a default argument of `StateSampler.__init__`; the bundle processor
does not pass one and Beam has no option for it. The wait is Beam's, in every Beam
component, so the processes that run components apply it around all of them: the
local runner (`pipeline.local_runner.run_dag`) and each Kubeflow task
(`kubeflow.executor_entrypoint`). It holds in this process only, for the duration
of a block: with `multi_processing`, workers are other processes and keep Beam's
default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from apache_beam.runners.worker import statesampler

SHORT_PERIOD_MS = 10  # what the runners use


@contextlib.contextmanager
def state_sampling_period(milliseconds: int) -> Iterator[None]:
    """Within the block, Beam's bundles in this process sample their state every
    `milliseconds` (Beam's default: 200), so a bundle waits at most that long to end."""
    if milliseconds < 1:
        raise ValueError(f"state sampling period {milliseconds} ms: must be at least 1 ms")
    init = statesampler.StateSampler.__init__
    original = init.__defaults__
    init.__defaults__ = (milliseconds,)
    try:
        yield
    finally:
        init.__defaults__ = original
