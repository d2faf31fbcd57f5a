"""Benchmark deckgen against fair floors, side by side in one run; write bench/out/results.json.

    python bench/run.py                  # make bench: two bank shapes, 10,000 and 100,000 questions
    python bench/run.py --quick          # 10,000 questions only, fewer rounds (a few minutes)
    python bench/run.py --bank my.yaml   # measure your own bank instead of generated ones
    python bench/run.py --readme         # rewrite README.md's figures from results.json

Each round of a bank runs, one after the other in a fresh folder with an empty cache
(XDG_CACHE_HOME): libyaml's own load of the bank (bench/yaml_load.py), `deckgen validate`, the
floor (bench/floor.py), a cold `deckgen build` (no lock), then, after editing one answer, the
rebuild. Every ratio is the median of the rounds' pair ratios (deckgen over its baseline in the
same round), with their spread. Start-up is timed the same way against importing click and
yaml. Exits 1 when a ratio misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from measure import CommandFailed, Run, measure
from report import TARGET_MIN_QUESTIONS, TARGETS, markdown, rewrite_readme

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable
DECKGEN = str(BIN / "deckgen")
LARGE = 50_000
_ANSWER_RE = re.compile(r"^\s*(?:-\s+)?answer:[ \t]*(.*?)\s*$")


def pair_ratios(baseline: list[float], ours: list[float]) -> dict[str, Any]:
    """The median of the per-round ratios ours/baseline, with their quartiles and range."""
    ratios = [b / a for a, b in zip(baseline, ours, strict=True)]
    if len(ratios) > 1:
        q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    else:
        q1 = q3 = ratios[0]
    return {
        "median": statistics.median(ratios),
        "q1": q1,
        "q3": q3,
        "min": min(ratios),
        "max": max(ratios),
        "pairs": ratios,
    }


def edit_one_answer(path: Path) -> None:
    """Append a word to the answer of the question in the middle of the bank, as a user
    fixing a typo would."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    answers = [i for i, line in enumerate(lines) if _ANSWER_RE.match(line)]
    if not answers:
        raise SystemExit(f"{path}: no 'answer:' line to edit")
    i = answers[len(answers) // 2]
    value = _ANSWER_RE.match(lines[i]).group(1)  # type: ignore[union-attr]
    if value[:1] in ("|", ">"):
        i += 1
        while not lines[i].strip():
            i += 1
        lines[i] = lines[i].rstrip("\r\n") + " Edited.\n"
    elif value[:1] in ("'", '"') and len(value) > 1 and value[-1] == value[0]:
        lines[i] = lines[i].rstrip().rstrip(value[0]) + f" Edited.{value[0]}\n"
    else:
        lines[i] = lines[i].rstrip("\r\n") + " Edited.\n"
    path.write_text("".join(lines), encoding="utf-8")


def generated_bank(folder: Path, shape: str, size: int) -> Path:
    """bench/generate.py's bank, written once and again only when the generator changes."""
    path = folder / f"{shape}-{size}.yaml"
    if not path.exists() or path.stat().st_mtime < (HERE / "generate.py").stat().st_mtime:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            subprocess.run(
                [PYTHON, str(HERE / "generate.py"), str(size), "--shape", shape],
                stdout=f,
                check=True,
            )
        tmp.replace(path)
    return path


def count_questions(path: Path) -> int:
    """The number of questions in a bank (untimed)."""
    import yaml

    with path.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=yaml.CSafeLoader)
    return sum(len(topic.get("questions") or []) for topic in data["topics"])


def child_env(cache: Path | None = None) -> dict[str, str]:
    """The environment of measured commands: bytecode caching on, as for users (some
    environments turn it off, which would recompile deckgen at every start), and an
    optional fresh cache folder so that a cold build cannot find earlier results."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    return env


def bench_bank(
    label: str, source: Path, *, rounds: int, rebuild: bool, work: Path
) -> dict[str, list[Run]]:
    """Run the rounds of one bank and return the runs of each command."""
    runs: dict[str, list[Run]] = {
        k: [] for k in ("yaml_load", "validate", "floor", "build", "rebuild", "watch_rebuild")
    }
    for n in range(1, rounds + 1):
        folder = work / label
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        bank = folder / "bank.yaml"
        shutil.copyfile(source, bank)
        env = child_env(folder / "cache")
        build = [DECKGEN, "build", str(bank), "-o", str(folder / "deck.apkg")]
        steps = [
            ("yaml_load", [PYTHON, str(HERE / "yaml_load.py"), str(bank)]),
            ("validate", [DECKGEN, "validate", str(bank)]),
            ("floor", [PYTHON, str(HERE / "floor.py"), str(bank), str(folder / "floor.apkg")]),
            ("build", build),
        ]
        for name, command in steps:
            runs[name].append(measure(command, cwd=folder, env=env))
        if rebuild:
            if not (folder / "bank.lock").exists():
                raise SystemExit(f"the cold build of {label} wrote no bank.lock")
            edit_one_answer(bank)
            runs["rebuild"].append(measure(build, cwd=folder, env=env))
            runs["watch_rebuild"].append(watch_rebuild(bank, folder, env))
        shutil.rmtree(folder)
        done = ", ".join(f"{k} {v[-1].wall_s:.2f} s" for k, v in runs.items() if len(v) == n)
        print(f"  {label} round {n}/{rounds}: {done}", file=sys.stderr, flush=True)
    return runs


def watch_rebuild(bank: Path, folder: Path, env: dict[str, str]) -> Run:
    """The edit-one-answer rebuild inside a ``deckgen watch`` session (bench/watch_rebuild.py):
    its wall and CPU time only, as the session's process also holds its first build."""
    done = subprocess.run(
        [PYTHON, str(HERE / "watch_rebuild.py"), str(bank), str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise CommandFailed(f"watch_rebuild.py failed: {done.stderr.strip()[-2000:]}")
    times = json.loads(done.stdout)
    return Run(times["wall_s"], times["cpu_s"], 0.0, 0.0, 0.0, 1)


def bank_result(
    shape: str, questions: int, source: Path, runs: dict[str, list[Run]]
) -> dict[str, Any]:
    def values(name: str, metric: str) -> list[float]:
        return [getattr(r, metric) for r in runs[name]]

    ratios = {
        "build_time": pair_ratios(values("floor", "wall_s"), values("build", "wall_s")),
        "build_cpu": pair_ratios(values("floor", "cpu_s"), values("build", "cpu_s")),
        "build_memory": pair_ratios(
            values("floor", "tree_peak_mib"), values("build", "tree_peak_mib")
        ),
        "validate_time": pair_ratios(values("yaml_load", "wall_s"), values("validate", "wall_s")),
        "validate_memory": pair_ratios(
            values("yaml_load", "tree_peak_mib"), values("validate", "tree_peak_mib")
        ),
    }
    if runs["rebuild"]:
        ratios["rebuild_time"] = pair_ratios(values("build", "wall_s"), values("rebuild", "wall_s"))
    if runs["watch_rebuild"]:
        ratios["watch_rebuild_time"] = pair_ratios(
            values("build", "wall_s"), values("watch_rebuild", "wall_s")
        )
    return {
        "shape": shape,
        "questions": questions,
        "bytes": source.stat().st_size,
        "runs": {k: [asdict(r) for r in v] for k, v in runs.items() if v},
        "ratios": ratios,
    }


def bench_startup(rounds: int) -> dict[str, Any]:
    """``deckgen --help`` and ``deckgen validate questions.yaml`` against importing click and
    yaml, alternating, each in a fresh process."""
    env = child_env()
    commands = {
        "import": [PYTHON, "-c", "import click, yaml"],
        "help": [DECKGEN, "--help"],
        "validate_questions": [DECKGEN, "validate", str(ROOT / "questions.yaml")],
    }
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            runs[name].append(measure(command, env=env, tree=False))
    base = [r.wall_s for r in runs["import"]]
    return {
        "runs": {k: [asdict(r) for r in v] for k, v in runs.items()},
        "ratios": {
            name: pair_ratios(base, [r.wall_s for r in runs[name]])
            for name in ("help", "validate_questions")
        },
    }


def targets(banks: list[dict[str, Any]], startup: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ratio that has a target, with whether its median met it."""
    found = []
    failed = []
    for bank in banks:
        if bank["questions"] < TARGET_MIN_QUESTIONS:
            continue
        if "error" in bank:
            name = f"{bank['shape']} {bank['questions']} failed"
            failed.append({"name": name, "metric": "error", "median": None, "met": False})
            continue
        for metric, stats in bank["ratios"].items():
            if metric in TARGETS:
                found.append((f"{metric} {bank['shape']} {bank['questions']}", metric, stats))
    for metric, stats in startup["ratios"].items():
        found.append((metric, metric, stats))
    return failed + [
        {
            "name": name,
            "metric": metric,
            "median": stats["median"],
            "limit": TARGETS[metric],
            "met": stats["median"] <= TARGETS[metric],
        }
        for name, metric, stats in found
    ]


def git_describe() -> str | None:
    """The commit measured, with "+changes" when deckgen's own files differ from it (the
    README or bench/ changing does not count)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--", "deckgen", "pyproject.toml", "constraints.txt")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}+changes" if changed else commit


def warm_up(work: Path) -> None:
    """Run every command once, untimed: bytecode gets compiled and files cached, so the
    first measured round is not the odd one out."""
    folder = work / "warm-up"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = child_env(folder / "cache")
    for shape in ("today", "code"):
        bank = generated_bank(work / "banks", shape, 200)
        for command in (
            [PYTHON, str(HERE / "yaml_load.py"), str(bank)],
            [DECKGEN, "validate", str(bank)],
            [PYTHON, str(HERE / "floor.py"), str(bank), str(folder / "floor.apkg")],
            [DECKGEN, "build", str(bank), "-o", str(folder / "deck.apkg"), "--lock",
             str(folder / "bank.lock")],
            [DECKGEN, "--help"],
        ):  # fmt: skip
            measure(command, cwd=folder, env=env, tree=False)
    shutil.rmtree(folder)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", help="questions per generated bank (default 10000,100000)")
    parser.add_argument("--shapes", default="today,code", help="bench/generate.py shapes")
    parser.add_argument(
        "--bank",
        action="append",
        type=Path,
        help="a bank file to measure instead of generated ones (repeatable)",
    )
    parser.add_argument("--repeat", type=int, help="rounds per bank (default 5)")
    parser.add_argument(
        "--large-repeat",
        type=int,
        default=3,
        help=f"rounds per bank over {LARGE:,} questions (default 3)",
    )
    parser.add_argument(
        "--rebuild-sizes",
        default="10000",
        help="bank sizes whose edit-one-answer rebuild is measured",
    )
    parser.add_argument("--startup-repeat", type=int, help="default 11")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="defaults of 10,000 questions, 3 rounds and 7 start-up rounds",
    )
    parser.add_argument("--out", type=Path, default=HERE / "out", help="work folder")
    parser.add_argument("--results", type=Path, help="default: OUT/results.json")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if targets are missed")
    parser.add_argument(
        "--readme", action="store_true", help="only rewrite README's figures from the results file"
    )
    parser.add_argument("--readme-path", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    # --quick changes the defaults only: options given explicitly still win.
    defaults = ("10000", 3, 7) if args.quick else ("10000,100000", 5, 11)
    args.sizes = args.sizes or defaults[0]
    args.repeat = args.repeat or defaults[1]
    args.startup_repeat = args.startup_repeat or defaults[2]
    args.results = args.results or args.out / "results.json"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.readme:
        results = json.loads(args.results.read_text(encoding="utf-8"))
        rewrite_readme(args.readme_path, results)
        print(f"rewrote the figures in {args.readme_path} from {args.results}")
        return 0

    work = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    rebuild_sizes = {int(s) for s in args.rebuild_sizes.split(",") if s}
    if args.bank:
        banks = [(path.stem, path.resolve(), count_questions(path)) for path in args.bank]
    else:
        banks = [
            (shape, generated_bank(work / "banks", shape, int(size)), int(size))
            for size in args.sizes.split(",")
            for shape in args.shapes.split(",")
        ]
    started = time.time()
    load_before = os.getloadavg()
    print(
        f"deckgen benchmark: {len(os.sched_getaffinity(0))} CPUs, load {load_before[0]:.1f}",
        file=sys.stderr,
    )
    try:
        warm_up(work)
        startup = bench_startup(args.startup_repeat)
    except CommandFailed as e:
        print(f"failed: {e}", file=sys.stderr)
        return 1
    results_banks = []
    for shape, source, questions in banks:
        rounds = args.large_repeat if questions > LARGE else args.repeat
        try:
            runs = bench_bank(
                f"{shape}-{questions}",
                source,
                rounds=rounds,
                rebuild=questions in rebuild_sizes or bool(args.bank),
                work=work / "rounds",
            )
        except CommandFailed as e:
            # One bank deckgen refuses (a limit, say) should not throw away the others.
            print(f"failed: {e}", file=sys.stderr)
            error = {"error": str(e)[-2000:]}
            results_banks.append({"shape": shape, "questions": questions, **error})
            continue
        results_banks.append(bank_result(shape, questions, source, runs))
    checked = targets(results_banks, startup)
    results = {
        "format": 1,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "deckgen": git_describe(),
        "machine": {
            "cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "system": platform.platform(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
        },
        "settings": {
            "repeat": args.repeat,
            "large_repeat": args.large_repeat,
            "startup_repeat": args.startup_repeat,
            "sample_interval_s": 0.01,
            "floor": "bench/floor.py (CSafeLoader + genanki, cyclic GC off)",
            "yaml_load": "bench/yaml_load.py (CSafeLoader, cyclic GC off)",
        },
        "banks": results_banks,
        "startup": startup,
        "targets": checked,
        "all_met": all(t["met"] for t in checked),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))
    print(f"results: {args.results}")
    missed = [
        t["name"] if t["median"] is None else f"{t['name']} {t['median']:.2f} > {t['limit']}"
        for t in checked
        if not t["met"]
    ]
    if missed:
        print("over target: " + "; ".join(missed), file=sys.stderr)
        return 0 if args.no_fail else 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
