"""Mixins that run a TFX executor's `Do` inside a block (a patch of Beam for its duration)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


def do_within(scope: Callable[[], contextlib.AbstractContextManager]) -> type:
    """A mixin class whose `Do` calls the next class's `Do` inside `scope()`.

    List the mixin before the TFX executor it wraps. `scope` is called at every `Do`,
    so it sees the module state of that moment.
    """

    class DoWithin:
        def Do(  # noqa: N802 - TFX API
            self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict
        ) -> None:
            with scope():
                super().Do(input_dict, output_dict, exec_properties)

    return DoWithin
