"""Command-line flags generated from the configuration's fields, so flags and fields never drift.

One `--field-name` flag per field of `core.config.PipelineConfig`'s sections,
plus `--profile`. Unset flags keep the profile's value.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing

from core.config import PROFILES, SECTION_OF_FIELD, SECTIONS, PipelineConfig


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `--profile` and one `--field-name` flag per configuration field."""
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="sample",
        help="named configuration: 'sample' (offline demo) or 'full' (the guide's recipe)",
    )
    for section, section_type in SECTIONS.items():
        group = parser.add_argument_group(f"{section} settings")
        hints = typing.get_type_hints(section_type)
        for f in dataclasses.fields(section_type):
            flag = "--" + f.name.replace("_", "-")
            kind = hints[f.name]
            help_text = f"(default: from the profile; {section}.{f.name})"
            if kind is bool:
                group.add_argument(
                    flag, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text
                )
            else:
                group.add_argument(flag, dest=f.name, type=kind, help=help_text)


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    """Builds the validated config from parsed flags; unset flags keep the profile's values."""
    overrides = {
        name: getattr(args, name)
        for name in SECTION_OF_FIELD
        if getattr(args, name, None) is not None
    }
    return PipelineConfig.for_profile(args.profile, **overrides)
