"""What a person sees: every card of the FastAPI deck and of a bank of wide content, as
Anki's backend renders them, in headless Chromium on a phone and a desktop, light and night.
Nothing may stick out of the card sideways; code and tables scroll inside it.

Set DECKGEN_SCREENSHOTS to a folder to keep the screenshots and look at them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from anki.collection import Collection
from browser import FRAME_HEIGHT, measure_cards, screenshot
from conftest import DATA, ROOT, ImportPackage

from deckgen.build import build

T1 = 1_700_000_000
BANKS = {"fastapi": ROOT / "questions.yaml", "wide": DATA / "layout" / "wide.yaml"}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: DECKGEN_SCREENSHOTS, or a temporary folder."""
    folder = os.environ.get("DECKGEN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


def rendered_cards(
    bank: Path, tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> dict[str, str]:
    """Every card's front and back as Anki renders them, by question id and side; the
    collection's media files are copied beside the pages that show them."""
    shutil.copytree(bank.parent, tmp_path / "bank")
    source = tmp_path / "bank" / bank.name
    for stale in source.parent.glob("*.lock"):
        stale.unlink()
    import_package(build(source, output=tmp_path / "deck.apkg", now=T1).path)
    for media in Path(collection.media.dir()).iterdir():
        shutil.copy(media, tmp_path / media.name)
    cards = {}
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        name = f"{card.note()['ID']}.{card.ord + 1}"
        cards[f"{name} front"] = card.question()
        cards[f"{name} back"] = card.answer()
    return dict(sorted(cards.items()))


@pytest.mark.parametrize("bank", sorted(BANKS))
@pytest.mark.parametrize(("width", "night"), [(390, False), (390, True), (1024, False)])
def test_nothing_overflows(
    bank: str,
    width: int,
    night: bool,
    tmp_path: Path,
    shots: Path,
    collection: Collection,
    import_package: ImportPackage,
) -> None:
    """At phone and desktop width, in light and night mode, no card is wider than the
    screen, and night mode really is dark."""
    cards = rendered_cards(BANKS[bank], tmp_path, collection, import_package)
    results, page = measure_cards(cards, tmp_path, width=width, night=night)
    mode = "night" if night else "light"
    columns = 4 if width < 600 else 2
    rows = -(-len(cards) // columns)
    screenshot(
        page,
        shots / f"{bank}-{width}-{mode}.png",
        width=columns * (width + 14) + 16,
        height=min(rows * (FRAME_HEIGHT // 2 + 30), 16_000),
    )
    assert set(results) == set(cards)
    assert all(r["viewport"] == width for r in results.values())
    overflowing = {name: r["overflow"] for name, r in results.items() if r["overflow"] > 0}
    assert overflowing == {}
    dark = {r["background"] for r in results.values()} == {"rgb(13, 17, 23)"}
    assert dark == night
