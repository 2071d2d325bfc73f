"""Help that helps: every flag documented from its field, choices enforced, each command its own."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from core.config import SECTIONS
from kubeflow import cli as kubeflow_cli
from pipeline import cli

KUBEFLOW_FLAGS = ("--image", "--trainer-gpus", "--kfp-host", "--cron", "--serving-pvc")


def _help(main, *argv: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return capsys.readouterr().out


def _subparsers(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from _subparsers(sub, f"{prefix}{name} ")


def _parsers(main) -> dict[str, argparse.ArgumentParser]:
    """Every (sub)command's parser, captured as `main` builds them."""
    built = {}
    original = argparse.ArgumentParser.parse_args

    def capture(self, *args, **kwargs):
        built.update(dict(_subparsers(self)))
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = capture
    try:
        with pytest.raises(SystemExit):
            main([])
    finally:
        argparse.ArgumentParser.parse_args = original
    return built


def test_every_configuration_field_documents_itself():
    for section, section_type in SECTIONS.items():
        for f in dataclasses.fields(section_type):
            assert len(f.metadata.get("help", "")) > 10, f"{section}.{f.name} has no help"


@pytest.mark.parametrize("main", [cli.main, kubeflow_cli.main], ids=["pipeline", "kubeflow"])
def test_every_option_of_every_command_says_what_it_does(main):
    parsers = _parsers(main)
    assert parsers
    for command, parser in parsers.items():
        for action in parser._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                assert action.help and "from the profile;" not in action.help, (
                    f"{command} {action.option_strings[0]}"
                )


def test_run_help_shows_run_options_only_grouped_with_units_and_profile_defaults(capsys):
    text = _help(cli.main, "run", capsys=capsys)
    for group in ("data (", "training (", "evaluation (", "local run ("):
        assert group in text
    for flag in KUBEFLOW_FLAGS + ("--sample-examples",):
        assert flag + " " not in text
    assert "in pixels" in text and "[sample: 96, full: 150]" in text
    assert "{fit,custom}" in text and "train[:40%]" in text


def test_models_subcommands_show_only_their_options(capsys):
    listing = _help(cli.main, "models", "list", capsys=capsys)
    assert "--output-dir" in listing and "--mlmd-host" in listing
    for flag in KUBEFLOW_FLAGS + ("--head-epochs", "--dataset-name", "--to ", "--force"):
        assert flag not in listing
    promote = _help(cli.main, "models", "promote", capsys=capsys)
    # One flag for where versions go: the run's own --serving-dir (no second name for it).
    assert "--to " not in promote and "--serving-dir" in promote
    assert "--head-epochs" not in promote and "--image " not in promote


def test_kubeflow_options_are_on_python_m_kubeflow(capsys):
    text = _help(kubeflow_cli.main, "compile", capsys=capsys)
    for flag in KUBEFLOW_FLAGS:
        assert flag in text


def test_a_typo_in_a_fixed_choice_is_rejected_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--mixed-precision", "float61"])
    assert exited.value.code == 2
    assert "invalid choice: 'float61' (choose from 'none', 'float16', 'bfloat16')" in (
        capsys.readouterr().err
    )
