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
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
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
    with tempfile.TemporaryDirectory() as profile:
        browser = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                f"--window-size={width},900",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            port = _devtools_port(browser, timeout)
            return _visit(port, url, timeout)
        finally:
            browser.terminate()
            browser.wait(timeout=30)


def _devtools_port(browser: subprocess.Popen, timeout: float) -> int:
    """Chromium prints 'DevTools listening on ws://127.0.0.1:PORT/...' once it is ready."""
    deadline = time.monotonic() + timeout
    for line in browser.stderr:
        found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if found:
            return int(found.group(1))
        if time.monotonic() > deadline:
            break
    raise RuntimeError("chromium did not start its DevTools endpoint")


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
