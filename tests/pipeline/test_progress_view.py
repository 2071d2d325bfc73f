"""The terminal view: status lines in place on a terminal, periodic elsewhere, heartbeats."""

from __future__ import annotations

import io
import logging

from pipeline.run_logging import ProgressView
from trainer_module.progress import PROGRESS_LOGGER, TRANSIENT


class Terminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(message: str, transient: bool = False, name: str = PROGRESS_LOGGER, args=()):
    entry = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
    if transient:
        setattr(entry, TRANSIENT, True)
    return entry


def test_on_a_terminal_a_status_is_rewritten_in_place_and_cleared_by_the_next_line():
    terminal = Terminal(tty=True)
    view = ProgressView(terminal)
    view.emit(record("head epoch 1/5: step 10/100", transient=True))
    view.emit(record("head epoch 1/5: step 20/100", transient=True))
    view.emit(record("head epoch 1/5 loss=0.5"))
    out = terminal.getvalue()
    assert out.count("\n") == 1  # only the epoch line ends a line
    assert out.count("\r\033[K") == 3  # each status replaced the previous one
    assert out.rstrip("\n").endswith("head epoch 1/5 loss=0.5")


def test_elsewhere_a_status_line_is_printed_at_most_once_per_interval():
    terminal, clock = Terminal(tty=False), FakeClock()
    view = ProgressView(terminal, log_interval=30.0, clock=clock)
    for step in range(1, 13):  # one status every 5 s for 60 s
        view.emit(record(f"step {step}/100", transient=True))
        clock.now += 5.0
    lines = terminal.getvalue().splitlines()
    assert [line.split("]")[1].strip() for line in lines] == ["step 1/100", "step 7/100"]
    assert "\r" not in terminal.getvalue()


def test_a_silent_component_gets_a_heartbeat_with_its_elapsed_time():
    terminal, clock = Terminal(tty=False), FakeClock()
    view = ProgressView(terminal, log_interval=0.0, heartbeat_interval=10.0, clock=clock)
    started = record("Component %s is running.", name="absl", args=("Evaluator",))
    started.created = clock.now
    view.emit(started)
    clock.now += 5.0
    view.heartbeat()  # too soon
    clock.now += 77.0
    view.heartbeat()
    lines = terminal.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].endswith("Evaluator running for 1m22s")
    finished = record("Component %s is finished.", name="absl", args=("Evaluator",))
    finished.created = clock.now
    view.emit(finished)
    clock.now += 60.0
    view.heartbeat()  # nothing runs: nothing to say
    assert terminal.getvalue().splitlines()[-1].endswith("✔ Evaluator (82.0 s)")
