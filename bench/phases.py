"""Where one build's time goes, step by step: what to look at before optimising.

    python bench/phases.py bank.yaml              # a cold build (no lock, an empty cache)
    python bench/phases.py bank.yaml --rebuild    # that, then one answer edited and built again

The bank is copied into a temporary folder with a cache folder of its own; the file given is
not touched. The build runs in this process, as `deckgen build` runs it (the cyclic GC
paused, render workers forked), with a clock on the builder's main steps: when each began
and how long it took, in wall time. A step's time includes what runs inside it: rendering
happens while the package is written, as notes are needed. Rendering is timed apart in each
process that renders (this one and its workers), with how long the workers waited for work
between two slices. Module imports are not counted (`python -X importtime -m deckgen ...`
shows them), nor the interpreter's start.

Coupled to the builder's internal names on purpose: tests/test_bench.py runs it, so a rename
that would leave a step untimed fails there.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOW = 1_764_028_800  # a fixed build time: both builds date their notes alike

# (module, attribute, what the step is): where each step's function is looked up when called.
STEPS = [
    ("deckgen.buildstate", "StateHolder.load", "read the last build's state"),
    ("deckgen.build", "check_again", "check the edit again"),
    ("deckgen.build", "load_indexed", "check the bank"),
    ("deckgen.build", "read_lock_again", "read the lock"),
    ("deckgen.build", "note_heads", "note heads"),
    ("deckgen.build", "heads_again", "note heads (the edit's)"),
    ("deckgen.build", "known_again", "notes kept from the last build"),
    ("deckgen.build", "plan_release", "plan the release"),
    ("deckgen.build", "same_rows", "rows copied whole"),
    ("deckgen.build", "format_lock", "write the lock"),
    ("deckgen.build", "format_lock_again", "write the lock (changed lines)"),
    ("deckgen.build", "write_package", "write the package (rendering inside)"),
    ("deckgen.package", "_zip", "  zip the package"),
    ("deckgen.buildstate", "_FileSink.finish", "write the next state"),
]


class Clock:
    """When each timed step began and how long it took, in this process."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.steps: list[tuple[str, float, float]] = []  # (step, began, took)

    def wrap(self, module: str, attribute: str, label: str) -> None:
        owner, name = _owner(module, attribute)
        function = getattr(owner, name)  # AttributeError: the builder has changed

        @functools.wraps(function)
        def timed(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                self.steps.append((label, began - self.start, ended - began))

        setattr(owner, name, timed)


def _owner(module: str, attribute: str) -> tuple[Any, str]:
    """What holds a step's function (its module, or a class in it), and the function's name."""
    owner: Any = sys.modules[module]
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def time_rendering(log: Path) -> None:
    """Have every process that renders note each slice it renders in ``log``: pid, start,
    end (clock times, comparable across processes), questions."""
    import deckgen.notes

    render = deckgen.notes._render_slice

    @functools.wraps(render)
    def timed(sources: Any) -> list[tuple[str, ...]]:
        began = time.perf_counter()
        result = render(sources)
        line = f"{os.getpid()} {began} {time.perf_counter()} {len(sources)}\n"
        with open(log, "a", encoding="ascii") as f:  # one short write: lines stay whole
            f.write(line)
        return result

    # Looked up when the pool starts, and inherited by the workers it forks.
    deckgen.notes._render_slice = timed


def rendering_report(log: Path, start: float) -> list[str]:
    """Each rendering process's share, from the log of time_rendering."""
    by_process: dict[int, list[tuple[float, float, int]]] = {}
    if log.exists():
        for line in log.read_text(encoding="ascii").splitlines():
            pid, began, ended, count = line.split()
            by_process.setdefault(int(pid), []).append((float(began), float(ended), int(count)))
    lines = []
    workers = itertools.count(1)
    for pid, slices in sorted(by_process.items(), key=lambda item: item[0] != os.getpid()):
        slices.sort()
        busy = sum(end - began for began, end, _ in slices)
        waited = sum(max(0.0, b[0] - a[1]) for a, b in itertools.pairwise(slices))
        who = "this process" if pid == os.getpid() else f"worker {next(workers)}"
        lines.append(
            f"  {who:<16} {sum(n for *_, n in slices):>8,} questions in {len(slices):>4} "
            f"slices, busy {busy:6.3f} s from {slices[0][0] - start:6.3f} to "
            f"{slices[-1][1] - start:6.3f} s"
            + ("" if pid == os.getpid() else f", waited {waited:.3f} s between slices")
        )
    return lines or ["  (nothing rendered)"]


def timed_build(bank: Path, out: Path, title: str) -> None:
    """Build ``bank`` with every step timed, and print where the time went."""
    import deckgen.build

    clock = Clock()
    for module, attribute, label in STEPS:
        clock.wrap(module, attribute, label)
    log = bank.parent / f"render-{time.monotonic_ns()}.log"
    time_rendering(log)
    begun = time.perf_counter()
    result = deckgen.build.build(bank, output=out, now=NOW)
    took = time.perf_counter() - begun
    print(f"{title}: {len(result.release.lock.notes):,} notes, {took:.3f} s")
    print(f"  {'step':<40} {'began s':>8} {'took s':>8}")
    for label, began, step_took in sorted(clock.steps, key=lambda step: step[1]):
        print(f"  {label:<40} {began:8.3f} {step_took:8.3f}")
    print("rendering:")
    print("\n".join(rendering_report(log, clock.start)))
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bank", type=Path, help="a one-file bank (see bench/generate.py)")
    parser.add_argument("--rebuild", action="store_true", help="then edit one answer, build")
    args = parser.parse_args(argv)
    if not args.bank.is_file():
        parser.error(f"{args.bank}: not a file")
    folder = Path(tempfile.mkdtemp(prefix="deckgen-phases-"))
    try:
        os.environ["XDG_CACHE_HOME"] = str(folder / "cache")  # an empty cache
        os.environ.pop("DECKGEN_CACHE_DIR", None)
        os.environ.pop("DECKGEN_NO_CACHE", None)
        bank = folder / args.bank.name
        shutil.copyfile(args.bank, bank)
        import deckgen.build  # noqa: F401  imported before the clock starts

        timed_build(bank, folder / "deck.apkg", f"cold build of {args.bank}")
        if args.rebuild:
            sys.path.insert(0, str(HERE))
            from run import edit_one_answer

            edit_one_answer(bank)
            _forget_wrappers()
            timed_build(bank, folder / "deck.apkg", "after editing one answer")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _forget_wrappers() -> None:
    """Undo the last build's wrappers (functools.wraps keeps each original)."""
    for module, attribute, _ in STEPS:
        owner, name = _owner(module, attribute)
        setattr(owner, name, getattr(owner, name).__wrapped__)
    import deckgen.notes

    deckgen.notes._render_slice = deckgen.notes._render_slice.__wrapped__  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
