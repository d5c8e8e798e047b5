"""Headless-Chromium screenshots of the gold assets' pages in a running Dagster webserver.

`python -m infra.asset_screenshots [--out .stack/screenshots] [--url http://127.0.0.1:3000]`

Each gold asset's chart is Markdown far longer than the 1,000 characters Dagster's UI shows
inline, so the page shows a "[Show Markdown]" link and the chart only in the dialog it opens.
A plain `chromium --screenshot` cannot click, so Chromium is driven over the DevTools protocol
on a pipe (`--remote-debugging-pipe`: commands on fd 3, replies on fd 4, each a NUL-ended
JSON message): standard library only, no port opened, no browser downloaded. For each asset
it opens the Events view (the latest materialization and its metadata), clicks the chart's
link, waits for the PNG to decode and saves the viewport.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import select
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from batch.charts import CHART_METADATA_KEY
from batch.schemas import GOLD_NAMESPACE

CHROMIUM = "/usr/bin/chromium"
WINDOW = (1400, 1800)
# The flags that work on this machine: without the background-networking ones Chromium's
# own connections are refused by the closed network, many at a time.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")
PAGE_TIMEOUT_S = 60.0
# Dagster's "Join the community" dialog covers the page on localhost until dismissed; the
# browser-side dismissal (localStorage) keeps it away without telling the server anything.
HIDE_COMMUNITY_NUX = "try { localStorage.setItem('communityNux', '\"1\"') } catch (e) {}"
# Click the link in the metadata row labelled `label`; true once clicked, or at once if the
# chart is already inline (were it ever short enough for Dagster to show it in the row).
_CLICK_CHART = """(() => {
  if (document.querySelector('img[src^="data:image/png"]')) return true;
  const row = [...document.querySelectorAll('tr')]
    .find(tr => tr.cells.length > 1 && tr.cells[0].textContent.trim() === %s);
  const link = row && [...row.querySelectorAll('*')]
    .find(e => e.children.length === 0 && e.textContent.trim() === '[Show Markdown]');
  if (!link) return false;
  link.click();
  return true;
})()"""
# True once the dialog's PNG has decoded.
CHART_SHOWN = """(() => {
  const img = document.querySelector('img[src^="data:image/png"]');
  return !!img && img.complete && img.naturalWidth > 0;
})()"""


class ScreenshotError(RuntimeError):
    """A page that did not show what was expected; `url` names it."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


def asset_page_url(base_url: str, key_path: Sequence[str]) -> str:
    """The asset's Events view (its latest materialization with metadata) in Dagster 1.x."""
    if not key_path or any(not part for part in key_path):
        raise ValueError(f"an asset key needs non-empty parts, got {list(key_path)!r}")
    path = "/".join(quote(part, safe="") for part in key_path)
    return f"{base_url.rstrip('/')}/assets/{path}?view=events"


def screenshot_name(key_path: Sequence[str]) -> str:
    """`gold.daily_payments.png`: the same naming as the charts `make demo` writes."""
    return ".".join(key_path) + ".png"


def gold_key_paths(key_paths: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """The gold assets' key paths, sorted, out of every asset key of the definitions."""
    return sorted(tuple(p) for p in key_paths if len(p) > 1 and p[0] == GOLD_NAMESPACE)


def click_chart_script(label: str = CHART_METADATA_KEY) -> str:
    return _CLICK_CHART % json.dumps(label)


def chromium_argv(user_data_dir: str, *, binary: str = CHROMIUM,
                  window: tuple[int, int] = WINDOW) -> list[str]:
    """Chromium driven over fds 3 and 4, on a fresh profile, starting on a blank page."""
    return [binary, *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}",
            f"--window-size={window[0]},{window[1]}", "--remote-debugging-pipe",
            "about:blank"]


def split_messages(buffer: bytes) -> tuple[list[dict], bytes]:
    """The whole NUL-ended JSON messages in `buffer`, and the incomplete rest."""
    *whole, rest = buffer.split(b"\0")
    return [json.loads(raw) for raw in whole if raw], rest


def check_dagster(base_url: str, timeout_s: float = 10.0) -> str:
    """The webserver's version from `/server_info`; a clear error naming the URL if it is down."""
    url = f"{base_url.rstrip('/')}/server_info"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:  # noqa: S310 (http only)
            return json.load(reply)["dagster_webserver_version"]
    except (OSError, ValueError, KeyError) as exc:
        raise ScreenshotError(url, f"Dagster's webserver does not answer ({exc}); is the "
                              "stack up (`make up`, `make demo`)?") from exc


class Browser:
    """One headless Chromium on a DevTools pipe, with one page attached."""

    def __init__(self, binary: str = CHROMIUM) -> None:
        if not os.access(binary, os.X_OK):
            raise ScreenshotError(binary, "no Chromium here: run `make chromium`")
        self._profile = tempfile.TemporaryDirectory(prefix="asset-screenshots-")
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        # Above 4, so that the dup2 onto 3 and 4 below cannot overwrite one of them.
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
                               for fd in (to_child, from_child))
        os.close(to_child)
        os.close(from_child)
        self.log = Path(self._profile.name) / "chromium.log"
        self.pid = os.posix_spawn(binary, chromium_argv(self._profile.name, binary=binary),
                                  os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, child_in, 3), (os.POSIX_SPAWN_DUP2, child_out, 4),
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(self.log), os.O_WRONLY | os.O_CREAT, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2)])
        os.close(child_in)
        os.close(child_out)
        self._buffer, self._next_id, self._session = b"", 0, None
        try:
            self._open_page()
        except BaseException:
            self.close()
            raise

    def _open_page(self) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.call("Target.attachToTarget",
                                  {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Page.addScriptToEvaluateOnNewDocument", {"source": HIDE_COMMUNITY_NUX})
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})

    def call(self, method: str, params: dict | None = None, timeout_s: float = 30.0) -> dict:
        """Send one command (to the page once attached) and return its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            messages, self._buffer = split_messages(self._buffer)
            for reply in messages:  # events in between are not needed
                if reply.get("id") == message["id"]:
                    if "error" in reply:
                        raise RuntimeError(f"Chromium refused {method}: {reply['error']}")
                    return reply.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError(f"Chromium gave no answer to {method} in {timeout_s:.0f} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited; its log: {self.log}")
            self._buffer += chunk

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", {"expression": expression,
                                              "returnByValue": True})["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.5)
        return False

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout_s=5)
        except (OSError, RuntimeError, TimeoutError):
            os.kill(self.pid, signal.SIGKILL)  # our own child, by its pid
        os.waitpid(self.pid, 0)
        os.close(self._in)
        os.close(self._out)
        self._profile.cleanup()


def shoot_asset(browser: Browser, url: str, path: Path,
                timeout_s: float = PAGE_TIMEOUT_S) -> None:
    """Open the asset's page, open its chart and save the viewport to `path`."""
    browser.call("Page.navigate", {"url": url})
    if not browser.wait_for(click_chart_script(), timeout_s):
        browser.screenshot(path)  # what the page showed instead, to look at
        raise ScreenshotError(url, f"no '{CHART_METADATA_KEY}' metadata with [Show Markdown] "
                              f"within {timeout_s:.0f} s (not materialized yet?); the page "
                              f"as it was: {path}")
    if not browser.wait_for(CHART_SHOWN, timeout_s):
        browser.screenshot(path)
        raise ScreenshotError(url, f"the chart's image did not load; the page as it was: {path}")
    time.sleep(1.0)  # the dialog's opening transition
    browser.screenshot(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(".stack/screenshots"))
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="Dagster's webserver")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    try:
        version = check_dagster(args.url)
    except ScreenshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from batch.definitions import defs  # slow (Dagster); only once the server answers

    keys = gold_key_paths(k.path for k in defs.resolve_all_asset_keys())
    print(f"Dagster {version} at {args.url}: {len(keys)} gold assets")
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    browser = Browser(args.chromium)
    try:
        for key in keys:
            path = args.out / screenshot_name(key)
            try:
                shoot_asset(browser, asset_page_url(args.url, key), path)
                print(path)
            except ScreenshotError as exc:
                failures += 1
                print(f"error: {exc}", file=sys.stderr)
    finally:
        browser.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
