"""The preview page in headless Chromium: it loads without a console message, shows every
card, and each side of each card, inside its frame, is the HTML Anki's backend renders for
the built package (``card.question()``, ``card.answer()``) with what Anki's reviewer adds
(see deckgen.preview.reviewer); its toggles, search and problems panel work; screenshots.

Set DECKGEN_SCREENSHOTS to a folder to keep the screenshots and look at them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from anki.cards import Card
from anki.collection import Collection
from anki.sound import SoundOrVideoTag
from browser import load_page, page_result, screenshot_url
from conftest import DATA, ROOT, ImportPackage

from deckgen.build import build
from deckgen.checker import check_deck
from deckgen.preview import make_preview
from deckgen.preview.cards import preview_cards
from deckgen.preview.reviewer import TypeField, shown_sides

T1 = 1_700_000_000
BANKS = {
    "fastapi": ROOT / "questions.yaml",
    "kinds": DATA / "valid" / "kinds.yaml",
    "media": DATA / "media" / "bank.yaml",
}
PHONE, DESKTOP = 390, 1024

# Added to a copy of the page: waits for every frame, then reports what each shows, and
# parses the expected HTML in the same context (a div in a body) for a fair comparison.
COLLECT = """
<script type="application/json" id="expected">%s</script>
<script>
window.addEventListener("load", () => {
  const expected = JSON.parse(document.getElementById("expected").textContent);
  const act = %s;
  let rounds = 0;
  const collect = () => {
    const frames = [...document.querySelectorAll("iframe")];
    const ready = frames.every((f) => f.contentDocument && f.contentDocument.getElementById("qa")
      && f.contentDocument.readyState === "complete");
    if ((!ready || rounds < 3) && rounds++ < 200) { setTimeout(collect, 50); return; }
    if (act && !act.done) {
      act.done = true;
      act.run();
      rounds = 0;
      setTimeout(collect, 50);
      return;
    }
    const result = {
      entries: [...document.querySelectorAll(".entry")].filter((e) => !e.hidden).length,
      count: document.getElementById("count").textContent,
      problems: [...document.querySelectorAll("#problems li")].map((li) => li.textContent),
      problemsShown: !document.getElementById("problems").hidden,
      frames: {}, expected: {},
    };
    for (const frame of frames) {
      if (frame.closest(".entry").hidden) continue;
      const doc = frame.contentDocument;
      result.frames[`${frame.dataset.card} ${frame.dataset.side}`] = {
        qa: doc.getElementById("qa").innerHTML,
        classes: doc.body.className,
        viewport: frame.contentWindow.innerWidth,
        overflow: doc.scrollingElement.scrollWidth - frame.contentWindow.innerWidth,
        background: getComputedStyle(doc.body).backgroundColor,
        clipped: Math.ceil(doc.documentElement.getBoundingClientRect().height) - frame.clientHeight,
        images: [...doc.images].map((image) => image.naturalWidth > 0),
        sounds: [...doc.querySelectorAll(".replay-button")].map((a) => a.dataset.sound),
      };
    }
    for (const [key, html] of Object.entries(expected)) {
      const parsed = new DOMParser().parseFromString(
        `<!doctype html><body><div id="qa">${html}</div></body>`, "text/html");
      result.expected[key] = parsed.getElementById("qa").innerHTML;
    }
    document.body.setAttribute("data-result", JSON.stringify(result));
  };
  collect();
});
</script>
"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: DECKGEN_SCREENSHOTS, or a temporary folder."""
    folder = os.environ.get("DECKGEN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


def copy_bank(bank: Path, tmp_path: Path) -> Path:
    """A copy of a bank's folder, without its lock, to build and preview."""
    shutil.copytree(bank.parent, tmp_path / "bank")
    source = tmp_path / "bank" / bank.name
    for stale in source.parent.glob("*.lock"):
        stale.unlink()
    return source


def check_page(
    folder: Path, expected: dict[str, str], *, query: str = "all", act: str = "null"
) -> tuple[Any, list[str]]:
    """Load a copy of the preview page with COLLECT added; its report and console lines."""
    page = (folder / "index.html").read_text(encoding="utf-8")
    payload = json.dumps(expected).replace("<", "\\u003c")
    check = folder / "check.html"
    head, tail = page.rsplit("</body>", 1)  # the page's script has "</body>" in strings
    check.write_text(head + COLLECT % (payload, act) + "</body>" + tail, "utf-8")
    dom, console = load_page(f"{check.as_uri()}?{query}")
    return page_result(dom), console


def reviewer_view(card: Card) -> dict[str, str]:
    """Both sides of an Anki card as the reviewer shows them, from Anki's own output."""
    fields = {
        f["name"]: TypeField(card.note()[f["name"]], f["font"], f["size"])
        for f in card.note_type()["flds"]
    }

    def names(tags: list[Any]) -> tuple[str, ...]:
        return tuple(t.filename for t in tags if isinstance(t, SoundOrVideoTag))

    sounds = {"q": names(card.question_av_tags()), "a": names(card.answer_av_tags())}
    front, back = shown_sides(
        card.question(), card.answer(), sounds=sounds, fields=fields, ordinal=card.ord
    )
    key = f"{card.note()['ID']}.{card.ord + 1}"
    return {f"{key} front": front, f"{key} back": back}


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_every_card_shows_what_anki_renders(
    bank: str, tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """No console message; every card is listed and each side's frame holds exactly
    Anki's HTML for the built package (with the reviewer's additions), at phone width."""
    source = copy_bank(BANKS[bank], tmp_path)
    import_package(build(source, output=tmp_path / "deck.apkg", now=T1).path)
    expected: dict[str, str] = {}
    for cid in collection.find_cards(""):
        expected.update(reviewer_view(collection.get_card(cid)))
    preview = make_preview(source, tmp_path / "preview")
    result, console = check_page(tmp_path / "preview", expected)
    assert console == []
    assert result["entries"] == preview.cards == collection.card_count() == len(expected) // 2
    assert result["count"] == f"{preview.cards} cards, {preview.notes} notes"
    assert set(result["frames"]) == set(expected)
    for key, frame in result["frames"].items():
        assert frame["qa"] == result["expected"][key], key
        assert frame["viewport"] == PHONE
        assert frame["overflow"] <= 0, key
        assert frame["clipped"] <= 0, key  # each frame is as tall as its card
        assert frame["classes"] == f"card card{key.split()[0].rsplit('.', 1)[1]}"
        assert all(frame["images"]), key  # every image loads from the preview's folder
    if bank == "media":
        frames = result["frames"]
        assert (
            frames["beep.1 front"]["sounds"]
            == frames["beep.1 back"]["sounds"]
            == ["e5e503bc29b0ccf1.wav"]
        )
        assert sum(len(f["images"]) for f in frames.values()) == 7


def test_fastapi_counts() -> None:
    """The FastAPI deck the browser tests show has 73 notes and 81 cards."""
    deck, problems = check_deck(BANKS["fastapi"])
    assert problems == []
    assert deck is not None
    assert (sum(1 for _ in deck.questions), len(preview_cards(deck))) == (73, 81)


@pytest.fixture(scope="module")
def kinds_preview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The preview of the bank with one question of each kind."""
    folder = tmp_path_factory.mktemp("kinds") / "preview"
    make_preview(BANKS["kinds"], folder)
    return folder


@pytest.mark.parametrize(
    ("query", "viewport", "night"),
    [("all", PHONE, False), ("all&night", PHONE, True), ("all&desktop&night", DESKTOP, True)],
)
def test_modes_from_the_address(
    kinds_preview: Path, query: str, viewport: int, night: bool
) -> None:
    """?night and ?desktop open the page in Anki's night mode, at desktop width."""
    result, console = check_page(kinds_preview, {}, query=query)
    assert console == []
    frames = result["frames"].values()
    assert {f["viewport"] for f in frames} == {viewport}
    assert {("nightMode night_mode" in f["classes"]) for f in frames} == {night}
    assert {f["background"] for f in frames} == {
        "rgb(13, 17, 23)" if night else "rgb(255, 255, 255)"
    }
    assert all(f["overflow"] <= 0 and f["clipped"] <= 0 for f in frames)


def test_toggles(kinds_preview: Path) -> None:
    """The buttons switch every frame to night mode and to desktop width, in place."""
    act = """{ run() {
      document.getElementById("theme").click();
      document.getElementById("width").click();
    } }"""
    result, console = check_page(kinds_preview, {}, act=act)
    assert console == []
    frames = result["frames"].values()
    assert {f["viewport"] for f in frames} == {DESKTOP}
    assert {f["classes"].endswith(" nightMode night_mode") for f in frames} == {True}
    assert {f["background"] for f in frames} == {"rgb(13, 17, 23)"}
    assert all(f["clipped"] <= 0 for f in frames)


def searchable(card: Any, topic: str) -> str:
    return " ".join([card.search_text(), card.question_id, card.card_name, topic, *card.tags])


@pytest.mark.parametrize(
    "query", ["tag:drill", "id:status", "kind:cloze", "starlette", "async await"]
)
def test_search(query: str, tmp_path: Path) -> None:
    """A search shows the cards whose text, tags or id match every word, and counts them."""
    make_preview(BANKS["fastapi"], tmp_path)
    deck, _ = check_deck(BANKS["fastapi"])
    assert deck is not None
    cards = preview_cards(deck)
    expected = 0
    for card in cards:
        words = query.split()
        text = searchable(card, deck.topics[card.topic].name).lower()
        ok = all(
            any(w[4:] in t.lower() for t in card.tags)
            if w.startswith("tag:")
            else w[3:] in card.question_id
            if w.startswith("id:")
            else card.kind == w[5:]
            if w.startswith("kind:")
            else w in text
            for w in words
        )
        expected += ok
    assert 0 < expected < len(cards)
    result, console = check_page(tmp_path, {}, query=f"q={query.replace(' ', '+')}")
    assert console == []
    assert result["entries"] == expected
    assert result["count"] == f"{expected} of {len(cards)} cards"


def test_problems_panel(tmp_path: Path) -> None:
    """A bank with problems: each is listed at FILE:LINE:COL with its code, and the cards
    of the other questions still show."""
    source = tmp_path / "bank.yaml"
    text = BANKS["kinds"].read_text(encoding="utf-8")
    text = text.replace("answer: len", "answer: len\n        hint: unknown")
    text = text.replace("- id: term-gil", "- id: Term-GIL")
    source.write_text(text, encoding="utf-8")
    preview = make_preview(source, tmp_path / "preview", name="bank.yaml")
    assert [str(p) for p in preview.problems] == [
        "bank.yaml:12:13: question id 'Term-GIL' must be a lowercase slug of a-z, 0-9 and "
        "single hyphens, such as 'term-gil'",
        "bank.yaml:31:9: unknown key 'hint' in type-in question",
    ]
    result, console = check_page(tmp_path / "preview", {})
    assert console == []
    assert result["problemsShown"]
    assert result["problems"] == [f"{p} {p.code}" for p in preview.problems]
    assert result["entries"] == 3  # list-vs-tuple and def-keyword's two cards


@pytest.mark.parametrize(
    ("name", "query", "width"),
    [
        ("phone-light", "", 1400),
        ("phone-night", "night", 1400),
        ("desktop-light", "desktop", 1400),
        ("desktop-night", "desktop&night", 1400),
        ("narrow-window", "", 420),
    ],
)
def test_screenshots(name: str, query: str, width: int, shots: Path) -> None:
    """Screenshots of the FastAPI deck's preview (kept with DECKGEN_SCREENSHOTS)."""
    folder = shots / "preview-fastapi"
    if not (folder / "index.html").exists():
        make_preview(BANKS["fastapi"], folder)
    out = screenshot_url(
        f"{(folder / 'index.html').as_uri()}?{query}",
        shots / f"preview-{name}.png",
        width=width,
        height=1600,
    )
    assert out.stat().st_size > 10_000


def test_problems_screenshot(tmp_path: Path, shots: Path) -> None:
    """A screenshot of the problems panel over the cards that still show."""
    source = tmp_path / "bank.yaml"
    text = BANKS["kinds"].read_text(encoding="utf-8").replace("- id: term-gil", "- id: Term-GIL")
    source.write_text(text, encoding="utf-8")
    make_preview(source, tmp_path / "preview", name="bank.yaml")
    out = screenshot_url(
        (tmp_path / "preview" / "index.html").as_uri(),
        shots / "preview-problems.png",
        width=1400,
        height=1000,
    )
    assert out.stat().st_size > 10_000
