"""Headless Chromium for the tests that check what a person sees.

Debian's ``chromium`` package is installed by ``.ci/run``; where it is missing, these tests
skip with the reason (and fail in CI, where it must be there). Pages are loaded from files;
results come back through the DOM (``--dump-dom``), so no driver library is needed.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Flags for a closed network: no background requests, no first-run or sync chatter.
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    """The Chromium executable, or skip (fail under CI) when there is none."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium) - browser test skipped")
    return path


def run_chromium(args: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="deckgen-chromium-") as profile:
        return subprocess.run(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def dump_dom(page: Path, *, width: int = 1200, height: int = 900) -> str:
    """The DOM of ``page`` after its scripts ran."""
    result = run_chromium(
        [
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ]
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


_RESULT_RE = re.compile(r'data-result="([^"]*)"')
# Chromium logs what a page writes to its console, uncaught errors included, as lines like
# `[...:INFO:CONSOLE(12)] "Uncaught TypeError: ...", source: file:///... (12)`.
_CONSOLE_RE = re.compile(r"^.*(?::CONSOLE[:(]|Uncaught ).*$", re.M)


def console_messages(stderr: str) -> list[str]:
    """The console lines (messages, warnings, uncaught errors) in Chromium's log."""
    return _CONSOLE_RE.findall(stderr)


def load_page(
    url: str, *, width: int = 1400, height: int = 1000, budget: int = 10_000
) -> tuple[str, list[str]]:
    """The DOM of the page at ``url`` after its scripts ran, and what it wrote to the
    console."""
    result = run_chromium(
        [
            f"--window-size={width},{height}",
            f"--virtual-time-budget={budget}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            url,
        ],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, console_messages(result.stderr)


def screenshot_url(url: str, out: Path, *, width: int, height: int) -> Path:
    """A PNG of the page at ``url`` at the given window size."""
    result = run_chromium(
        [
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",
            f"--screenshot={out}",
            url,
        ]
    )
    assert out.exists(), result.stderr
    return out


def page_result(dom: str) -> Any:
    """The JSON a test's script left in the ``data-result`` attribute of the page's body."""
    match = _RESULT_RE.search(dom)
    assert match is not None, "the page's test script did not finish"
    return json.loads(html.unescape(match.group(1)))


def screenshot(page: Path, out: Path, *, width: int, height: int) -> Path:
    """A PNG of ``page`` at the given window size."""
    result = run_chromium(
        [
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",
            f"--screenshot={out}",
            page.as_uri(),
        ]
    )
    assert out.exists(), result.stderr
    return out


def card_document(card_html: str, *, night: bool) -> str:
    """A card as Anki's reviewer shows it: the rendered HTML (with its <style>) inside
    ``#qa``, on a body with the card class, and Anki's night-mode classes when asked."""
    classes = "card card1" + (" nightMode night_mode" if night else "")
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body class="{classes}"><div id="qa">{card_html}</div></body></html>'
    )


FRAME_HEIGHT = 900  # the most of one card a screenshot shows


def measure_cards(
    cards: dict[str, str], folder: Path, *, width: int, night: bool
) -> tuple[dict[str, Any], Path]:
    """Load each card in a frame ``width`` pixels wide and report, per card, how far the
    page scrolls sideways past the frame (0 when nothing overflows). Returns the results
    and the harness page, which can also be screenshotted."""
    frames = "\n".join(
        f'<figure style="margin:0"><figcaption style="font:12px sans-serif;color:#fff">'
        f"{html.escape(name)}</figcaption>"
        f'<iframe data-name="{html.escape(name, quote=True)}" '
        f'style="width:{width}px;height:{FRAME_HEIGHT}px;border:1px solid #888;display:block" '
        f'srcdoc="{html.escape(card_document(card, night=night), quote=True)}"></iframe></figure>'
        for name, card in cards.items()
    )
    page = folder / f"cards-{width}-{'night' if night else 'light'}.html"
    page.write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:8px;background:#777;display:flex;flex-wrap:wrap;gap:12px;
align-items:flex-start">{frames}
<script>
window.addEventListener("load", () => {{
  const result = {{}};
  for (const frame of document.querySelectorAll("iframe")) {{
    const doc = frame.contentDocument;
    result[frame.dataset.name] = {{
      overflow: doc.scrollingElement.scrollWidth - frame.contentWindow.innerWidth,
      viewport: frame.contentWindow.innerWidth,
      background: getComputedStyle(doc.body).backgroundColor,
    }};
    // Fit each frame to its card (up to the cap), so a screenshot shows whole cards.
    const height = Math.min(doc.body.offsetHeight + 24, {FRAME_HEIGHT});
    frame.style.height = height + "px";
  }}
  document.body.setAttribute("data-result", JSON.stringify(result));
}});
</script></body></html>""",
        encoding="utf-8",
    )
    match = _RESULT_RE.search(dump_dom(page, width=width + 100))
    assert match is not None, "the measuring script did not run"
    return json.loads(html.unescape(match.group(1))), page
