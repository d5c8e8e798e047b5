"""infra/asset_screenshots.py: the asset pages' URLs, the gold keys of the one Definitions,
Chromium's argv and the DevTools pipe's framing; then the driver itself in Debian's Chromium
(when installed) on a local page shaped like Dagster's metadata table, with no server."""

from __future__ import annotations

import io
import json
import os

import pytest
from PIL import Image

from batch.assets import GOLD_MARTS
from batch.charts import CHART_METADATA_KEY, markdown_image
from infra import asset_screenshots as shots


def test_an_asset_page_url_joins_the_key_path_and_opens_the_events_view():
    assert shots.asset_page_url("http://127.0.0.1:3000/", ["gold", "daily_payments"]) == (
        "http://127.0.0.1:3000/assets/gold/daily_payments?view=events")
    # A part is one path segment, whatever it holds.
    assert shots.asset_page_url("http://h:1", ["a b", "c/d"]) == (
        "http://h:1/assets/a%20b/c%2Fd?view=events")


@pytest.mark.parametrize("bad", [[], ["gold", ""]])
def test_an_empty_key_or_key_part_is_refused(bad):
    with pytest.raises(ValueError, match="non-empty"):
        shots.asset_page_url("http://h:1", bad)


def test_a_screenshot_is_named_like_the_chart_make_demo_writes():
    assert shots.screenshot_name(("gold", "daily_payments")) == "gold.daily_payments.png"


def test_the_gold_keys_of_the_definitions_are_the_charted_marts():
    from batch.definitions import defs

    keys = shots.gold_key_paths(k.path for k in defs.resolve_all_asset_keys())
    assert keys == sorted(mart.identifier for mart in GOLD_MARTS)
    assert shots.gold_key_paths([["silver", "x"], ["gold"], ["gold", "b"], ["gold", "a"]]) == [
        ("gold", "a"), ("gold", "b")]


def test_chromium_runs_headless_on_a_fresh_profile_driven_over_its_pipe():
    argv = shots.chromium_argv("/tmp/profile", binary="/opt/chromium", window=(800, 600))
    assert argv[0] == "/opt/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-background-networking",
                 "--user-data-dir=/tmp/profile", "--window-size=800,600",
                 "--remote-debugging-pipe"):
        assert flag in argv
    assert argv[-1] == "about:blank"


def test_pipe_messages_are_split_on_nul_keeping_the_incomplete_tail():
    buffer = b'{"id": 1}\0{"method": "Page.loadEventFired"}\0{"id": 2, "res'
    messages, rest = shots.split_messages(buffer)
    assert messages == [{"id": 1}, {"method": "Page.loadEventFired"}]
    assert rest == b'{"id": 2, "res'
    assert shots.split_messages(rest + b'ult": {}}\0') == ([{"id": 2, "result": {}}], b"")


def test_the_click_script_names_the_charts_metadata_key_as_a_js_string():
    assert json.dumps(CHART_METADATA_KEY) in shots.click_chart_script()
    assert '"it\\"s"' in shots.click_chart_script('it"s')


def test_a_webserver_that_does_not_answer_is_named(closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(shots.ScreenshotError, match=f"{url}/server_info.*does not answer"):
        shots.check_dagster(url, timeout_s=2)
    assert shots.main(["--url", url]) == 1


@pytest.fixture
def closed_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A page shaped like Dagster's Events view: the chart behind a "[Show Markdown]" link.
PAGE = """<!doctype html><html><body><table><tr><td>rows</td><td>42</td></tr>
<tr><td>chart</td><td><button id="open">[Show Markdown]</button></td></tr></table>
<div id="dialog"></div><script>
document.getElementById('open').onclick = () => { setTimeout(() => {
  document.getElementById('dialog').innerHTML = '<img src="%s">'; }, 300); };
</script></body></html>"""


@pytest.mark.skipif(not os.access(shots.CHROMIUM, os.X_OK), reason="no Chromium: make chromium")
def test_the_driver_opens_the_chart_and_saves_the_viewport(tmp_path):
    raw = io.BytesIO()
    Image.new("RGB", (560, 240), "#3b6ea5").save(raw, format="PNG")
    src = markdown_image(raw.getvalue(), "t").split("(", 1)[1].rstrip(")")
    page = tmp_path / "page.html"
    page.write_text(PAGE % src)
    browser = shots.Browser()
    try:
        shots.shoot_asset(browser, page.as_uri(), tmp_path / "ok.png", timeout_s=20)
        assert browser.evaluate(shots.CHART_SHOWN) is True
        (tmp_path / "empty.html").write_text("<p>no metadata yet</p>")
        with pytest.raises(shots.ScreenshotError, match="empty.html: no 'chart' metadata"):
            shots.shoot_asset(browser, (tmp_path / "empty.html").as_uri(),
                              tmp_path / "failed.png", timeout_s=2)
    finally:
        browser.close()
    shot = Image.open(tmp_path / "ok.png").convert("RGB")
    assert shot.size == shots.WINDOW
    assert (0x3B, 0x6E, 0xA5) in {color for _, color in shot.getcolors(1 << 20)}
    # The page as it was is kept for a look when the chart is missing.
    assert Image.open(tmp_path / "failed.png").size == shots.WINDOW
