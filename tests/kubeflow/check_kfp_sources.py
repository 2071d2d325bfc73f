"""Checks the evidence of every modelled KFP backend change against kubeflow/pipelines itself.

Usage: python -m tests.kubeflow.check_kfp_sources GIT_DIR  (a clone of kubeflow/pipelines
with its tags; `make check-kfp-sources KFP_GIT=...`). Not part of `make test`: CI has no
copy of KFP's sources. For each `kfp_releases.CHANGES` entry it reads the cited file at
the two release tags with `git show` and fails unless the quoted words appear at `since`
and not at `before`. Run it when a KFP release is added to the profiles.
"""

from __future__ import annotations

import subprocess
import sys

from tests.kubeflow.kfp_releases import CHANGES


def source(git_dir: str, tag: str, path: str) -> str:
    shown = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{tag}:{path}"], capture_output=True, text=True
    )
    return shown.stdout if shown.returncode == 0 else ""


def main(git_dir: str) -> int:
    failures = 0
    for change in CHANGES:
        at_since = change.needle in source(git_dir, change.since, change.path)
        at_before = change.needle in source(git_dir, change.before, change.path)
        ok = at_since and not at_before
        failures += not ok
        print(
            f"{'ok  ' if ok else 'FAIL'} {change.field}: {change.old!r} -> {change.new!r} at "
            f"{change.since} (in {change.since}: {at_since}, in {change.before}: {at_before}) "
            f"{change.path}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
