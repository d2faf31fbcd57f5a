"""deckgen.renderpool and the build's workers: however the notes are shared out (workers during
the check, workers after it, this process alone), the package is the same."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from test_safety import big_bank

from deckgen import build as builder
from deckgen import notes
from deckgen.errors import BuildError

T = 1_764_028_800


def package(source: Path) -> bytes:
    source.with_suffix(".lock").unlink(missing_ok=True)
    out = source.parent / "out.apkg"
    builder.build(source, output=out, now=T, cache=False)
    return out.read_bytes()


def test_workers_give_the_package_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bank large enough for workers: they render slices while the bank is still being
    checked, and after; the package is byte for byte the one this process alone writes."""
    source = big_bank(tmp_path / "big.yaml", 3_000)
    sent: list[int] = []
    real_topic = notes.EarlyRender.topic

    def topic(self: notes.EarlyRender, topic: object) -> None:
        real_topic(self, topic)  # type: ignore[arg-type]
        sent.append(len(self.slices))

    monkeypatch.setattr(notes.EarlyRender, "topic", topic)
    monkeypatch.setattr(builder, "_questions_in", lambda source: 10_000)
    with_workers = package(source)
    assert sent
    assert sent[-1] > 0  # slices went to a worker before the check ended
    monkeypatch.setattr(builder, "start_pool", lambda questions: None)
    assert package(source) == with_workers


def test_a_worker_that_dies_early_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies on the slices it is given while the bank is checked ends the build
    with an error naming those questions, and nothing is written."""
    source = big_bank(tmp_path / "big.yaml", 2_500)
    parent = os.getpid()
    real = notes._render_slice

    def crash_in_a_worker(sources: list[notes.Source]) -> list[tuple[str, ...]]:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(sources)

    monkeypatch.setattr(notes, "_render_slice", crash_in_a_worker)
    monkeypatch.setattr(builder, "_questions_in", lambda source: 10_000)
    with pytest.raises(BuildError, match=r"worker died: killed by signal 9\) in the questions"):
        builder.build(source, output=tmp_path / "out.apkg", now=T, cache=False)
    assert not (tmp_path / "out.apkg").exists()
    assert not source.with_suffix(".lock").exists()


def test_early_slices_come_first_and_the_parent_renders_while_a_worker_is_on_them(
    tmp_path: Path,
) -> None:
    """Slices a worker was given before ``map`` (the early ones) come first, in order. They
    do not hold back the worker's next slices, which it gets at once; and while the worker
    is on them, this process renders the slices after those rather than wait."""
    from deckgen.renderpool import RenderPool

    rendered_here = tmp_path / "rendered-here"
    parent = os.getpid()

    def render(work: Sequence[int]) -> list[tuple[str, ...]]:
        if os.getpid() == parent:
            rendered_here.touch()
            return [("parent", str(n)) for n in work]
        # The worker goes on once this process has rendered something, or after a while.
        deadline = time.monotonic() + 5
        while not rendered_here.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return [(f"worker, parent first: {rendered_here.exists()}", str(n)) for n in work]

    slices = [[2 * n, 2 * n + 1] for n in range(8)]
    with RenderPool(1, render) as pool:
        sent = {n: pool.submit(slices[n], f"slice {n}") for n in (0, 1)}
        results = list(pool.map(slices, [f"slice {n}" for n in range(8)], sent=sent))
    assert [int(number) for result in results for _, number in result] == list(range(16))
    owners = [result[0][0] for result in results]
    # The worker: its two early slices and the next two, sent before this process rendered
    # anything; this process: the one after those, while the worker waited for it. (Who
    # renders the last three depends on which process gets there first.)
    assert owners[:5] == ["worker, parent first: True"] * 4 + ["parent"]
    assert set(owners) == {"worker, parent first: True", "parent"}


def test_slices_get_smaller_towards_the_end() -> None:
    """The questions left to render are cut into slices that cover them all, in order, each
    a share of what is left: the last ones are small."""
    for count, processes in [(7_000, 2), (100_000, 3), (120, 2), (1, 2), (0, 2)]:
        bounds = notes._slices(count, processes)
        assert [b for b, _ in bounds[1:]] == [e for _, e in bounds[:-1]]
        assert (bounds[0][0], bounds[-1][1]) == (0, count) if count else bounds == []
        sizes = [e - b for b, e in bounds]
        assert sizes == sorted(sizes, reverse=True)
        assert max(sizes, default=0) <= notes._MAX_SLICE
    assert notes._slices(7_000, 2)[-2][1] - notes._slices(7_000, 2)[-2][0] == notes._MIN_SLICE


class _Pool:
    """Stands in for a RenderPool whose worker never finishes a slice."""

    def __init__(self) -> None:
        self.waiting: list[object] = []

    def collect(self, *, block: bool) -> bool:
        return False

    def has_room(self, ahead: int = 2) -> bool:
        return len(self.waiting) < ahead

    def submit(self, work: list[object], label: object) -> int:
        self.waiting.append(label)
        return len(self.waiting)


@pytest.mark.parametrize(
    ("questions", "checked", "sent"),
    [
        (4_000, 4_000, 2_000),  # half the bank at most
        (10_000, 10_000, 2_500),  # 10 slices of 250 waiting, at least
        (200_000, 60_000, 25_000),  # a larger bank: an eighth of it may wait
    ],
)
def test_early_slices_wait_in_proportion_to_the_bank(
    monkeypatch: pytest.MonkeyPatch, questions: int, checked: int, sent: int
) -> None:
    """While the bank is checked, the workers are sent slices until enough wait (more for a
    larger bank, whose release takes longer to plan) or half the bank has gone."""
    from types import SimpleNamespace

    monkeypatch.setattr(notes, "render_source", lambda topic, question: question)
    early = notes.EarlyRender(_Pool(), questions=questions)  # type: ignore[arg-type]
    for start in range(0, checked, 100):
        early.topic(SimpleNamespace(questions=list(range(start, start + 100))))  # type: ignore[arg-type]
    assert early.end == sent
    assert [(a, b) for a, b, _ in early.slices] == [(a, a + 250) for a in range(0, sent, 250)]
