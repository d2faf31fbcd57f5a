"""deckgen.rendercache: builds that use the render cache write the bytes of builds that do not,
whatever state the cache is in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from deckgen.build import build
from deckgen.rendercache import cache_folder, open_cache
from deckgen.split import split_bank

T = 1_764_028_800


def bank(folder: Path) -> Path:
    """A copy of the FastAPI bank (every kind, code, math, media) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "questions.yaml"
    path.write_bytes((ROOT / "questions.yaml").read_bytes())
    for media in ("media", "images", "sounds"):
        if (ROOT / media).is_dir():
            (folder / media).symlink_to(ROOT / media)
    return path


def folder_bank(folder: Path) -> Path:
    """The FastAPI bank as a folder bank: the render cache's case (a one-file bank keeps a
    build state instead, see tests/test_buildstate.py)."""
    split_bank(bank(folder.parent / f"{folder.name}-file"), folder)
    return folder


def built(source: Path, *, cache: bool = True) -> bytes:
    """The package of a fresh build of ``source`` (its lock removed first)."""
    lock = source / "deck.lock" if source.is_dir() else source.with_suffix(".lock")
    lock.unlink(missing_ok=True)
    out = source.parent / "out.apkg"
    build(source, output=out, now=T, cache=cache)
    return out.read_bytes()


def edit_one_answer(source: Path) -> None:
    if source.is_dir():  # the largest topic file
        source = max(source.glob("*.yaml"), key=lambda path: path.stat().st_size)
    text = source.read_text(encoding="utf-8")
    at = text.index("answer: |\n", len(text) // 2) + len("answer: |\n")
    end = text.index("\n", at)  # the end of the answer's first line
    source.write_text(text[:end] + " Edited." + text[end:], encoding="utf-8")


def cache_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(folder))
    return folder


def test_cached_builds_are_byte_identical(tmp_path: Path, cache_dir: Path) -> None:
    """A build from the cache, after one answer changed, writes exactly the package that a
    build without the cache writes; the cache lives outside the bank's folder."""
    source = folder_bank(tmp_path / "bank")
    cold = built(source)
    assert cache_files(cache_dir)  # the first build filled it
    assert built(source) == cold == built(source, cache=False)
    edit_one_answer(source)
    assert built(source) == built(source, cache=False) != cold
    assert not [p for p in source.rglob("*cache*")]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-40] + bytes(b ^ 0xFF for b in data[-40:]),  # a flipped tail
        lambda data: b"not a cache",
        lambda data: data.replace(b"<p>", b"<q>", 1),  # fields changed, checksum not
    ],
    ids=["truncated", "flipped", "foreign", "tampered"],
)
def test_a_damaged_cache_is_not_used(tmp_path: Path, cache_dir: Path, damage: object) -> None:
    """A cache file that is cut short, garbled or foreign changes nothing in the package."""
    source = folder_bank(tmp_path / "bank")
    cold = built(source, cache=False)
    built(source)
    (file,) = (p for p in cache_files(cache_dir) if p.suffix == ".cache")
    file.write_bytes(damage(file.read_bytes()))  # type: ignore[operator]
    assert built(source) == cold


def test_an_unwritable_cache_folder_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache folder that cannot be made (a file is in the way) only means no cache."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(blocker / "cache"))
    source = bank(tmp_path / "bank")
    assert built(source) == built(source, cache=False)


def test_the_cache_can_be_turned_off_and_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DECKGEN_NO_CACHE turns it off; DECKGEN_CACHE_DIR moves it; XDG_CACHE_HOME is the
    default's root on Linux."""
    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(tmp_path / "moved"))
    assert cache_folder() == tmp_path / "moved"
    monkeypatch.setenv("DECKGEN_NO_CACHE", "1")
    assert cache_folder() is None
    assert open_cache(tmp_path / "bank.yaml") is None
    monkeypatch.delenv("DECKGEN_NO_CACHE")
    monkeypatch.delenv("DECKGEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert cache_folder() == tmp_path / "xdg" / "deckgen"


def test_the_cache_stays_in_its_bound(tmp_path: Path, cache_dir: Path) -> None:
    """Past its bound, the files of the banks built longest ago are removed."""
    first = bank(tmp_path / "one")
    built(first)
    old = cache_files(cache_dir)  # the bank's build state and its collection
    assert len(old) == 2
    for path in old:
        os.utime(path, (1, 1))  # used long ago
    cache = open_cache(bank(tmp_path / "two"))
    assert cache is not None
    cache.limit = max(path.stat().st_size for path in old) + 1
    cache.add(b"k" * 16, ("field",))
    cache.commit()
    assert not set(old) & set(cache_files(cache_dir))
    assert len(cache_files(cache_dir)) == 1


def test_concurrent_builds_share_the_cache(tmp_path: Path, cache_dir: Path) -> None:
    """Builds of one bank running at once all succeed, with the same package."""
    source = bank(tmp_path / "bank")
    command = [sys.executable, "-m", "deckgen", "build", "--lock"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(T)}
    runs = [
        subprocess.Popen(
            [*command, str(tmp_path / f"{n}.lock"), "-o", str(tmp_path / f"{n}.apkg"), str(source)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr.decode()
    packages = {(tmp_path / f"{n}.apkg").read_bytes() for n in range(4)}
    assert len(packages) == 1
    assert [p.name for p in cache_files(cache_dir) if p.name.startswith(".tmp")] == []
