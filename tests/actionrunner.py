"""Run a composite action's steps here, as a GitHub runner would, for the tests.

Each `run:` step runs with bash -e -o pipefail, its `${{ }}` expressions evaluated first, its
`if:` honoured, and GITHUB_OUTPUT read back into `steps.<id>.outputs`. `uses:` steps cannot
run here: they are recorded with their inputs, and their outputs can be given (`preset`),
as can those of any run step the test replaces (installing deckgen, say).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Context = dict[str, Any]

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||[!(),])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*))"
)
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_FUNCTIONS = {
    "startswith": lambda a, b: _text(a).lower().startswith(_text(b).lower()),
    "endswith": lambda a, b: _text(a).lower().endswith(_text(b).lower()),
    "contains": lambda a, b: _text(b).lower() in _text(a).lower(),
    "success": lambda: True,  # a failed step stops the run here, so later ones see success
    "always": lambda: True,
    "failure": lambda: False,
}


class StepFailed(Exception):
    """A `run:` step exited non-zero."""

    def __init__(self, step: str, result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(f"step {step} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        self.step = step
        self.stdout = result.stdout
        self.stderr = result.stderr


@dataclass
class ActionRun:
    """What a run did: the steps that ran, the actions it called and the action's outputs."""

    ran: list[str] = field(default_factory=list)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    used: dict[str, dict[str, str]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def evaluate(expression: str, context: Context) -> Any:
    """Evaluate a GitHub Actions expression: literals, contexts, ==, !=, !, &&, ||, calls."""
    tokens: list[tuple[str, str]] = []
    position = 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {expression[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        position = match.end()
    tokens.append(("end", ""))
    index = 0

    def peek() -> str:
        return tokens[index][1]

    def take(expected: str | None = None) -> tuple[str, str]:
        nonlocal index
        token = tokens[index]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected!r} in {expression!r}")
        index += 1
        return token

    def either() -> Any:
        value = both()
        while peek() == "||":
            take()
            right = both()
            value = value if value else right
        return value

    def both() -> Any:
        value = compare()
        while peek() == "&&":
            take()
            right = compare()
            value = right if value else value
        return value

    def compare() -> Any:
        left = unary()
        if peek() in ("==", "!="):
            op = take()[1]
            right = unary()
            same = _text(left).lower() == _text(right).lower()
            return same if op == "==" else not same
        return left

    def unary() -> Any:
        if peek() == "!":
            take()
            return not unary()
        return primary()

    def primary() -> Any:
        kind, value = take()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if value == "(":
            inner = either()
            take(")")
            return inner
        if kind != "word":
            raise ValueError(f"unexpected {value!r} in {expression!r}")
        if value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        if peek() == "(":
            take("(")
            args = []
            while peek() != ")":
                args.append(either())
                if peek() == ",":
                    take(",")
            take(")")
            return _FUNCTIONS[value.lower()](*args)
        found: Any = context
        for part in value.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return found

    result = either()
    if tokens[index][0] != "end":
        raise ValueError(f"trailing {tokens[index][1]!r} in {expression!r}")
    return result


def substitute(text: str, context: Context) -> str:
    """Replace every ``${{ expression }}`` in ``text`` by its value."""
    return _EXPRESSION.sub(lambda m: _text(evaluate(m[1], context)), text)


def read_outputs(path: Path) -> dict[str, str]:
    """The name=value and name<<DELIMITER lines a step wrote to GITHUB_OUTPUT."""
    outputs = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def load_action(path: Path) -> dict[str, Any]:
    """The action's metadata, action.yml."""
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def run_action(
    action_dir: Path,
    *,
    workspace: Path,
    inputs: dict[str, str],
    github: dict[str, str],
    env: dict[str, str],
    preset: dict[str, dict[str, str]] | None = None,
) -> ActionRun:
    """Run the composite action in ``action_dir`` in ``workspace``, with ``inputs``."""
    action = load_action(action_dir / "action.yml")
    declared = action.get("inputs", {})
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"the action has no inputs {sorted(unknown)}")
    temp = Path(env["RUNNER_TEMP"])
    github = {"action_path": str(action_dir), "workspace": str(workspace), **github}
    context: Context = {"github": github, "runner": {"temp": str(temp)}, "steps": {}}
    context["inputs"] = {
        name: substitute(_text(inputs.get(name, spec.get("default", ""))), context)
        for name, spec in declared.items()
    }
    preset = preset or {}
    run = ActionRun()
    for number, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"step{number}")
        condition = str(step.get("if", "success()")).strip()
        condition = condition[3:-2] if condition.startswith("${{") else condition
        if not evaluate(condition, context):
            context["steps"][step_id] = {"outputs": {}, "outcome": "skipped"}
            continue
        if "uses" in step or step_id in preset:
            if "uses" in step:
                run.used[step["uses"].split("@")[0]] = {
                    key: substitute(_text(value), context)
                    for key, value in step.get("with", {}).items()
                }
            context["steps"][step_id] = {"outputs": preset.get(step_id, {}), "outcome": "success"}
            continue
        output_file = temp / f"output-{step_id}"
        output_file.write_text("")
        step_env = {
            **env,
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_ACTION": step_id,
            "GITHUB_ACTION_PATH": str(action_dir),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REF": github.get("ref", ""),
            "GITHUB_REF_NAME": github.get("ref_name", ""),
            "GITHUB_REPOSITORY": github.get("repository", ""),
        }
        step_env |= {k: substitute(_text(v), context) for k, v in step.get("env", {}).items()}
        assert step.get("shell") == "bash", f"step {step_id} must say shell: bash"
        bash = shutil.which("bash", path=env["PATH"]) or "bash"
        script = substitute(step["run"], context)
        result = subprocess.run(
            [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace,
            env=step_env,
            capture_output=True,
            text=True,
        )
        run.logs[step_id] = result.stdout + result.stderr
        if result.returncode != 0:
            raise StepFailed(step_id, result)
        run.ran.append(step_id)
        run.steps[step_id] = read_outputs(output_file)
        context["steps"][step_id] = {"outputs": run.steps[step_id], "outcome": "success"}
    run.outputs = {
        name: substitute(_text(spec["value"]), context)
        for name, spec in action.get("outputs", {}).items()
    }
    return run


def base_env(tmp: Path, fake_bin: Path) -> dict[str, str]:
    """A runner's environment: RUNNER_TEMP, and ``fake_bin`` (a fake `gh`) first on PATH."""
    temp = tmp / "runner-temp"
    temp.mkdir(exist_ok=True)
    return {
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp),
        "RUNNER_TEMP": str(temp),
        "LC_ALL": "C.UTF-8",
    }


FAKE_GH = """\
#!/bin/sh
# A stand-in for GitHub's CLI: logs its arguments; `release download TAG ... --dir DIR`
# copies $FAKE_RELEASES/TAG/* into DIR, or fails as gh does for a missing release.
printf '%s\\n' "$*" >> "$FAKE_GH_LOG"
if [ "$1 $2" = "release download" ]; then
  tag="$3"; dir=.
  while [ $# -gt 0 ]; do [ "$1" = --dir ] && dir="$2"; shift; done
  if [ -d "$FAKE_RELEASES/$tag" ]; then cp "$FAKE_RELEASES/$tag"/* "$dir"/; exit 0; fi
  echo 'release not found' >&2
  exit 1
fi
"""


def fake_gh(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A folder holding a fake `gh`, and the variables that say where it logs and reads."""
    fake_bin = tmp / "fake-bin"
    fake_bin.mkdir(exist_ok=True)
    gh = fake_bin / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    releases = tmp / "releases"
    releases.mkdir(exist_ok=True)
    return fake_bin, {"FAKE_GH_LOG": str(tmp / "gh.log"), "FAKE_RELEASES": str(releases)}


def git(cwd: Path, *args: str, date: str = "2026-01-02T03:04:05Z") -> str:
    """Run git in ``cwd`` with a fixed identity and commit date; return its output."""
    env = os.environ | {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    result = subprocess.run(
        [*command, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def github_context(ref: str) -> dict[str, str]:
    """The github context for a push of ``ref`` (refs/heads/... or refs/tags/...)."""
    return {
        "ref": ref,
        "ref_name": ref.split("/", 2)[2],
        "repository": "someone/some-deck",
        "token": "fake-token",
    }
