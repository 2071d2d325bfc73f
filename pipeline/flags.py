"""Command-line flags generated from the configuration's fields, so flags and fields never drift.

One `--field-name` flag per field of `core.config.PipelineConfig`'s sections,
plus `--profile`. Each flag's help, unit and choices come from the field's own
documentation (`core.config._option`); its default is shown per profile. Unset
flags keep the profile's value. A command adds only the fields it uses.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Iterable

from core.config import PROFILES, SECTION_OF_FIELD, SECTIONS, PipelineConfig

# What each section's flags are about, as the --help group titles.
_GROUP_TITLES = {
    "data": "data (where the images come from)",
    "training": "training (the guide's two stages)",
    "evaluation": "evaluation (when a model is blessed and pushed)",
    "runner": "local run (outputs, Beam, logging)",
    "kubeflow": "Kubeflow Pipelines (image, resources, cluster, schedule)",
}
_PROFILE_CONFIGS = {name: PipelineConfig.for_profile(name) for name in PROFILES}


class StrictParser(argparse.ArgumentParser):
    """An ArgumentParser that takes no abbreviated flag: `--head-epoc 2` is a typo, refused,
    not --head-epochs. Sub-commands made from it are StrictParsers too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def add_config_arguments(
    parser: argparse.ArgumentParser,
    sections: Iterable[str] = tuple(SECTIONS),
    fields: Iterable[str] | None = None,
) -> None:
    """Adds `--profile` and one `--field-name` flag per field of `sections` (or only `fields`).

    Flags are grouped by section in --help; each says what it does, its unit,
    its choices and its default in each profile.
    """
    wanted = set(fields) if fields is not None else None
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="sample",
        help="named configuration: 'sample' (offline demo) or 'full' (the guide's recipe); "
        "every flag below defaults to the profile's value",
    )
    for section in sections:
        section_type = SECTIONS[section]
        hints = typing.get_type_hints(section_type)
        chosen = [f for f in dataclasses.fields(section_type) if wanted is None or f.name in wanted]
        if not chosen:
            continue
        group = parser.add_argument_group(_GROUP_TITLES[section])
        for f in chosen:
            flag = "--" + f.name.replace("_", "-")
            help_text = _escape(f"{f.metadata['help']} [{_defaults(section, f.name)}]")
            if hints[f.name] is bool:
                group.add_argument(
                    flag, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text
                )
            else:
                group.add_argument(
                    flag,
                    dest=f.name,
                    type=hints[f.name],
                    choices=f.metadata.get("choices"),
                    metavar=_metavar(f, hints[f.name]),
                    help=help_text,
                )


def fields_of(*sections: str, without: Iterable[str] = ()) -> list[str]:
    """The field names of `sections`, less `without`: what a command passes as `fields`."""
    excluded = set(without)
    return [n for n, s in SECTION_OF_FIELD.items() if s in sections and n not in excluded]


def given_fields(args: argparse.Namespace) -> set[str]:
    """The configuration fields a flag set (the rest keep the profile's values)."""
    return {name for name in SECTION_OF_FIELD if getattr(args, name, None) is not None}


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    """Builds the validated config from parsed flags; unset flags keep the profile's values."""
    overrides = {name: getattr(args, name) for name in given_fields(args)}
    return PipelineConfig.for_profile(args.profile, **overrides)


def _defaults(section: str, name: str) -> str:
    """'default: 150' when every profile agrees, else 'sample: 96, full: 150'."""
    values = {p: getattr(getattr(c, section), name) for p, c in _PROFILE_CONFIGS.items()}
    shown = {p: ("''" if v == "" else str(v)) for p, v in values.items()}
    if len(set(shown.values())) == 1:
        return f"default: {next(iter(shown.values()))}"
    return ", ".join(f"{p}: {v}" for p, v in shown.items())


def _metavar(f: dataclasses.Field, kind: type) -> str | None:
    if f.metadata.get("choices"):
        return "{" + ",".join(f.metadata["choices"]) + "}"
    return {int: "N", float: "X"}.get(kind, "TEXT")


def _escape(text: str) -> str:
    """argparse formats help with %: split strings such as 'train[:40%]' need %%."""
    return text.replace("%", "%%")
