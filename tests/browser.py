"""A page opened in headless Chromium, watched over the DevTools protocol.

Just enough of the protocol to load a local page and report what a person
would notice: console errors, requests that left the machine, images that did
not load, and a screenshot. Uses Debian's `chromium` and the `websockets`
client already in the lock, so no browser download and no extra dependency.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

_LOCAL_SCHEMES = ("file:", "data:", "about:", "chrome:", "devtools:")
_IMAGES = (
    "Array.from(document.images).map(i => ({src: i.src.slice(0, 40), complete: i.complete,"
    " width: i.naturalWidth, height: i.naturalHeight}))"
)


@dataclass
class PageVisit:
    """What loading one page showed."""

    console_errors: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""  # what a reader sees (document.body.innerText)
    screenshot_png: bytes = b""


def find_or_install_chromium() -> str | None:
    """The chromium binary; installs Debian's package when missing. None if that fails."""
    found = shutil.which("chromium")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            subprocess.run(command, env=env, check=True, capture_output=True, timeout=900)
        except (OSError, subprocess.SubprocessError):
            return None
    return shutil.which("chromium")


def visit(chromium: str, url: str, width: int = 1200, timeout: float = 60) -> PageVisit:
    """Loads `url` in a fresh headless Chromium profile and records what happened."""
    with running_chromium(chromium, width, timeout) as session:
        return _visit(session.port, url, timeout)


@dataclass
class ChromiumSession:
    """A running headless Chromium: its DevTools port, process group and profile directory."""

    port: int
    process_group: int
    profile: Path


@contextmanager
def running_chromium(
    chromium: str, width: int = 1200, timeout: float = 60
) -> Iterator[ChromiumSession]:
    """Starts Chromium in a process group of its own and a fresh profile; on exit, ends every
    process of that group before removing the profile.

    Ending only the browser process is not enough: its zygote, storage and renderer
    children outlive it for a moment and keep writing into the profile, so removing the
    profile then fails at random (`OSError: Directory not empty: 'Default'`).
    """
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    log = tempfile.TemporaryFile()
    browser = subprocess.Popen(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            # The machine's network is closed: without these Chromium keeps trying to reach
            # Google's hosts, and a page's only requests are those it makes itself.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--window-size={width},900",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe nobody drains once Chromium is up
        start_new_session=True,
    )
    try:
        port = _devtools_port(browser, profile, log, timeout)
        yield ChromiumSession(port, browser.pid, profile)
    finally:
        _end_process_group(browser, timeout)
        log.close()
        shutil.rmtree(profile)


def _devtools_port(browser: subprocess.Popen, profile: Path, log, timeout: float) -> int:
    """Chromium writes its DevTools port into `<profile>/DevToolsActivePort` once it listens."""
    active_port = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and browser.poll() is None:
        lines = active_port.read_text().splitlines() if active_port.exists() else []
        if lines and lines[0].isdigit():
            return int(lines[0])
        time.sleep(0.05)
    log.seek(0)
    tail = log.read().decode(errors="replace")[-2000:]
    raise RuntimeError(f"chromium did not start its DevTools endpoint:\n{tail}")


def _end_process_group(browser: subprocess.Popen, timeout: float) -> None:
    """Asks the browser to quit, then kills what is left of its group and waits until it is gone."""
    browser.terminate()
    try:
        browser.wait(timeout=timeout / 2)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + timeout
    while live_processes_in_group(browser.pid):
        try:
            os.killpg(browser.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"chromium's processes {live_processes_in_group(browser.pid)} survived SIGKILL"
            )
        time.sleep(0.05)
    browser.wait()


def live_processes_in_group(group: int) -> list[int]:
    """Pids of the processes of a process group that still run (zombies excluded: they write
    nothing, and this machine's init may never reap an orphan)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def _visit(port: int, url: str, timeout: float) -> PageVisit:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        target = json.load(response)
    result = PageVisit()
    ids = itertools.count(1)
    with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout) as socket:

        def call(method: str, **params: Any) -> dict[str, Any]:
            message_id = next(ids)
            socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
            while True:
                message = json.loads(socket.recv(timeout=timeout))
                if message.get("id") == message_id:
                    if "error" in message:
                        raise RuntimeError(f"{method}: {message['error']}")
                    return message.get("result", {})
                _record(result, message, loaded)

        loaded: list[bool] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            call(f"{domain}.enable")
        call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not loaded and time.monotonic() < deadline:
            _record(result, json.loads(socket.recv(timeout=timeout)), loaded)
        result.images = call("Runtime.evaluate", expression=_IMAGES, returnByValue=True)["result"][
            "value"
        ]
        result.text = call(
            "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
        )["result"].get("value", "")
        shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        result.screenshot_png = base64.b64decode(shot["data"])
    return result


def _record(result: PageVisit, message: dict[str, Any], loaded: list[bool]) -> None:
    method, params = message.get("method"), message.get("params", {})
    if method == "Page.loadEventFired":
        loaded.append(True)
    elif method == "Runtime.exceptionThrown":
        result.console_errors.append(params["exceptionDetails"].get("text", "exception"))
    elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        result.console_errors.append(" ".join(str(a.get("value")) for a in params["args"]))
    elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
        result.console_errors.append(params["entry"]["text"])
    elif method == "Network.requestWillBeSent":
        requested = params["request"]["url"]
        if not requested.startswith(_LOCAL_SCHEMES):
            result.remote_requests.append(requested)
