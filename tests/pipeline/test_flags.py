"""Help that helps: every flag documented from its field, choices enforced, each command its own."""

from __future__ import annotations

import argparse
import dataclasses
import re

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
    text = _help(kubeflow_cli.main, "schedule", capsys=capsys)
    for flag in KUBEFLOW_FLAGS:
        assert flag in text


def test_a_typo_in_a_fixed_choice_is_rejected_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--mixed-precision", "float61"])
    assert exited.value.code == 2
    assert "invalid choice: 'float61' (choose from 'none', 'float16', 'bfloat16')" in (
        capsys.readouterr().err
    )


def _subcommands(parser: argparse.ArgumentParser, path: str = "") -> dict[str, tuple]:
    """'run' / 'models list' -> (its parser, the help its parent gives it), at any depth."""
    found = {}
    for action in parser._actions:  # noqa: SLF001 - argparse keeps no public list
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}  # noqa: SLF001
            for name, sub in action.choices.items():
                full = f"{path} {name}".strip()
                found[full] = (sub, helps.get(name, ""))
                found |= _subcommands(sub, full)
    return found


def _named_flags(text: str) -> set[str]:
    """Our flags a help text names: --words-with-dashes, not other tools' (--x=y, --snake_case)."""
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)(?![\w=])", text))


@pytest.mark.parametrize("cli", [cli, kubeflow_cli], ids=["pipeline", "kubeflow"])
def test_every_flag_a_help_names_is_accepted_by_its_command(cli):
    """Each command's own --help, and the line its parent's --help gives it."""
    commands = _subcommands(cli.build_parser())
    assert commands
    for name, (parser, summary) in commands.items():
        accepted = {option for action in parser._actions for option in action.option_strings}  # noqa: SLF001
        named = _named_flags(parser.format_help()) | _named_flags(summary)
        # argparse's own --no-X of a BooleanOptionalAction is in option_strings already.
        assert named <= accepted, f"{name}: {sorted(named - accepted)} named but not accepted"


def test_generate_sample_takes_the_flags_its_help_names(tmp_path, capsys):
    code = cli.main(
        ["generate-sample", "--num-classes", "3", "--data-dir", str(tmp_path),
         "--sample-examples", "24"]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    # Three classes get a name of their own instead of the two-class sample's.
    assert "sample_3_classes" in out and (tmp_path / "sample_3_classes").is_dir()
    code = cli.main(
        ["generate-sample", "--num-classes", "3", "--dataset-name", "tri", "--data-dir",
         str(tmp_path), "--sample-examples", "24"]
    )  # fmt: skip
    assert code == 0 and (tmp_path / "tri").is_dir()


def test_a_prefix_of_a_flag_is_refused_not_guessed(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--head-epoc", "2"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --head-epoc 2" in capsys.readouterr().err


def test_kubeflow_commands_show_only_the_flags_they_use(capsys):
    submit = _help(kubeflow_cli.main, "submit", capsys=capsys)
    for unused in ("--cron", "--image-folder", "--no-cache ", "--sample-examples"):
        assert unused not in submit, unused
    assert "--no-enable-cache" in submit  # one way to say it
    assert "--cron" in _help(kubeflow_cli.main, "schedule", capsys=capsys)
    assert "--kfp-host" not in _help(kubeflow_cli.main, "compile", capsys=capsys)
