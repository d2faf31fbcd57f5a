"""Benchmark deckgen against the floor (bench/floor.py), side by side in one run.

    python bench/run.py [--sizes 1000,10000,100000] [--repeat 3] [--startup-repeat 7]

For each size it generates a bank (bench/generate.py), then runs the floor and a cold
`deckgen build` (no lock yet) alternately, and reports the median wall time and peak RSS of
each whole process and their ratios. It also times `deckgen --help` and
`deckgen validate questions.yaml` against `python -c "import click, yaml"`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
BIN = Path(sys.executable).parent
TARGETS = {"build": 1.5, "rss": 1.5, "help": 1.5, "validate": 2.5}


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


def measure(command: list[str]) -> Run:
    """Wall time and peak resident memory of one whole process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        sys.exit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return Run(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.seconds for r in runs), statistics.median(r.peak_mib for r in runs)
    )


def bank(size: int) -> Path:
    path = OUT / f"bank-{size}.yaml"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        with path.open("w", encoding="utf-8") as f:
            subprocess.run(
                [sys.executable, str(HERE / "generate.py"), str(size)], stdout=f, check=True
            )
    return path


def build_vs_floor(size: int, repeat: int) -> tuple[Run, Run]:
    source = bank(size)
    lock = source.with_suffix(".lock")
    floor_runs, deckgen_runs = [], []
    for _ in range(repeat):
        floor_runs.append(
            measure([sys.executable, str(HERE / "floor.py"), str(source), str(OUT / "floor.apkg")])
        )
        lock.unlink(missing_ok=True)  # a cold build: no lock, so every note is rendered anew
        deckgen_runs.append(
            measure([str(BIN / "deckgen"), "build", str(source), "-o", str(OUT / "deck.apkg")])
        )
    lock.unlink(missing_ok=True)
    return median(floor_runs), median(deckgen_runs)


def startup(repeat: int) -> dict[str, tuple[float, float]]:
    baseline_cmd = [sys.executable, "-c", "import click, yaml"]
    commands = {
        "help": [str(BIN / "deckgen"), "--help"],
        "validate": [str(BIN / "deckgen"), "validate", str(ROOT / "questions.yaml")],
    }
    results = {}
    for name, command in commands.items():
        base, ours = [], []
        for _ in range(repeat):
            base.append(measure(baseline_cmd).seconds)
            ours.append(measure(command).seconds)
        results[name] = (statistics.median(base), statistics.median(ours))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--startup-repeat", type=int, default=7)
    args = parser.parse_args()

    print(f"deckgen benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print()
    print("| questions | floor s | deckgen s | time ratio | floor MiB | deckgen MiB | RSS ratio |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    failed = []
    for size in (int(s) for s in args.sizes.split(",")):
        floor, ours = build_vs_floor(size, args.repeat)
        time_ratio, rss_ratio = ours.seconds / floor.seconds, ours.peak_mib / floor.peak_mib
        print(
            f"| {size:,} | {floor.seconds:.2f} | {ours.seconds:.2f} | {time_ratio:.2f} "
            f"| {floor.peak_mib:.0f} | {ours.peak_mib:.0f} | {rss_ratio:.2f} |",
            flush=True,
        )
        if size >= 10_000:
            if time_ratio > TARGETS["build"]:
                failed.append(f"build time at {size:,}: {time_ratio:.2f} > {TARGETS['build']}")
            if rss_ratio > TARGETS["rss"]:
                failed.append(f"peak RSS at {size:,}: {rss_ratio:.2f} > {TARGETS['rss']}")
    print()
    print("| command | click+yaml import s | deckgen s | ratio | target |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (base, ours) in startup(args.startup_repeat).items():
        ratio = ours / base
        label = "deckgen --help" if name == "help" else "deckgen validate questions.yaml"
        print(f"| `{label}` | {base:.3f} | {ours:.3f} | {ratio:.2f} | {TARGETS[name]} |")
        if ratio > TARGETS[name]:
            failed.append(f"{label}: {ratio:.2f} > {TARGETS[name]}")
    print()
    if failed:
        sys.exit("over target: " + "; ".join(failed))
    print("all targets met")


if __name__ == "__main__":
    main()
