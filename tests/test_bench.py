"""The benchmark harness (bench/): it runs end to end and writes its results. No timing is
asserted here; figures come from `make bench` only."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from conftest import ROOT

from deckgen.renderpool import available_cpus

BENCH = ROOT / "bench"


@pytest.fixture
def bench_run(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/run.py as a module (bench/ is a folder of scripts, not a package)."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("run")


def run_harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / "run.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_harness_writes_results_and_readme(tmp_path: Path) -> None:
    """A one-round run on two 200-question banks writes results.json, and --readme rewrites
    only the marked block of a README from it."""
    out = tmp_path / "out"
    ran = run_harness(
        *("--sizes", "200", "--repeat", "1", "--startup-repeat", "1"),
        *("--rebuild-sizes", "200", "--out", str(out), "--no-fail"),
    )
    assert ran.returncode == 0, ran.stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [(b["shape"], b["questions"]) for b in results["banks"]] == [
        ("today", 200),
        ("code", 200),
    ]
    for bank in results["banks"]:
        assert set(bank["runs"]) == {
            *("yaml_load", "validate", "floor", "build", "rebuild", "watch_rebuild"),
        }
        assert all(len(runs) == 1 for runs in bank["runs"].values())
        build = bank["runs"]["build"][0]
        assert build["tree_peak_mib"] >= build["largest_process_mib"] > 0
        assert set(bank["ratios"]) >= {"build_time", "build_memory", "rebuild_time"}
        assert bank["ratios"]["watch_rebuild_time"]["median"] > 0
    # Below 10,000 questions only start-up has targets.
    assert {t["metric"] for t in results["targets"]} == {"help", "validate_questions"}
    assert not list((out / "rounds").iterdir())  # every round cleans up its folder

    readme = tmp_path / "README.md"
    readme.write_text(
        "# T\n<!-- bench:begin (generated) -->\nSTALE FIGURES\n<!-- bench:end -->\nrest\n"
    )
    ran = run_harness(
        "--readme", "--results", str(out / "results.json"), "--readme-path", str(readme)
    )
    assert ran.returncode == 0, ran.stderr
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# T\n<!-- bench:begin")
    assert text.endswith("<!-- bench:end -->\nrest\n")
    assert "STALE FIGURES" not in text
    assert "| code-heavy | 200 |" in text


@pytest.mark.parametrize(
    ("answer", "edited"),
    [
        ("|\n          First line.\n          Second.", "First line. Edited.\nSecond.\n"),
        ("Plain text.", "Plain text. Edited."),
        ('"Quoted."', "Quoted. Edited."),
    ],
)
def test_edit_one_answer(bench_run: ModuleType, tmp_path: Path, answer: str, edited: str) -> None:
    """The rebuild's edit changes the middle question's answer, whatever its scalar style."""
    bank = tmp_path / "bank.yaml"
    questions = "".join(f"      - id: q{n}\n        answer: {answer}\n" for n in range(3))
    bank.write_text(f"topics:\n  - name: T\n    questions:\n{questions}", encoding="utf-8")
    before = yaml.safe_load(bank.read_text(encoding="utf-8"))["topics"][0]["questions"]
    bench_run.edit_one_answer(bank)
    after = yaml.safe_load(bank.read_text(encoding="utf-8"))["topics"][0]["questions"]
    assert [q["answer"] for q in after] == [before[0]["answer"], edited, before[2]["answer"]]


def test_code_bank_shape() -> None:
    """The code-heavy bank has a code block in one question of three, in several languages."""
    sys.path.insert(0, str(BENCH))
    try:
        generate = importlib.import_module("generate")
    finally:
        sys.path.remove(str(BENCH))
    data = yaml.safe_load(generate.bank(300, shape="code"))
    answers = [q["answer"] for t in data["topics"] for q in t["questions"]]
    fenced = [a.split("```", 2)[1].split("\n", 1)[0] for a in answers if "```" in a]
    assert len(answers) == 300
    assert len(fenced) == 100
    assert {"python", "javascript", "sql", "bash", "rust"} <= set(fenced)
    assert any("|" in a and "---" in a for a in answers)  # tables
    assert any(not a.isascii() for a in answers)


def test_a_refused_bank_is_reported_not_fatal(tmp_path: Path) -> None:
    """A bank deckgen refuses is recorded with its error; the run still writes its results."""
    bank = tmp_path / "refused.yaml"
    bank.write_text(
        "deck: {name: R, id: 1900000002}\n"
        "topics:\n  - name: T\n    questions:\n      - id: q-1\n        question: Q?\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    ran = run_harness("--bank", str(bank), "--startup-repeat", "1", "--out", str(out), "--no-fail")
    assert ran.returncode == 0, ran.stderr
    (result,) = json.loads((out / "results.json").read_text(encoding="utf-8"))["banks"]
    assert (result["shape"], result["questions"]) == ("refused", 1)
    assert "answer" in result["error"]


def test_phases_times_every_step_of_a_build_and_a_rebuild(tmp_path: Path) -> None:
    """bench/phases.py times the builder's steps by name: each of them shows, for a cold
    build with a worker and for the rebuild after an edit, so a renamed step fails here."""
    bank = tmp_path / "bank.yaml"
    generated = subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), "2200", "--shape", "code"],
        capture_output=True,
        check=True,
    )
    bank.write_bytes(generated.stdout)
    ran = subprocess.run(
        [sys.executable, str(BENCH / "phases.py"), str(bank), "--rebuild"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    cold, _, rebuild = ran.stdout.partition("after editing one answer")
    for step in ("check the bank", "note heads", "plan the release", "write the lock"):
        assert f"  {step} " in cold
    for step in ("write the package", "zip the package", "write the next state"):
        assert step in cold
        assert step in rebuild
    if available_cpus() > 1:  # a bank of 2,200 questions has a worker render with us
        assert "worker 1 " in cold
    for step in ("read the last build's state", "check the edit again", "rows copied whole"):
        assert step in rebuild
    assert bank.read_bytes() == generated.stdout  # the bank given is not edited
