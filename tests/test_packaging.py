"""The built wheel: every file of the package, the metadata, the license and the command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import HeaderParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from pipindex import require_index

from deckgen import DISTRIBUTION, REPOSITORY
from deckgen.cli import main

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# What a checkout holds besides the source: environments, caches and earlier builds.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "dist", "build", "*.egg-info", "__pycache__", ".*_cache", "out"
)


def source_copy(dest: Path) -> Path:
    """A copy of the checkout without build output, so building it leaves ROOT untouched."""
    shutil.copytree(ROOT, dest, ignore=NOT_SOURCE)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    """The wheel pip builds from the checkout (build isolation fetches setuptools)."""
    require_index()
    tmp = tmp_path_factory.mktemp("wheel")
    source = source_copy(tmp / "source")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp / "out", source],
        check=True,
        capture_output=True,
    )
    (path,) = (tmp / "out").glob("*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def dist_info(wheel: zipfile.ZipFile) -> str:
    """The wheel's metadata folder, named by distribution and version."""
    return f"{DISTRIBUTION.replace('-', '_')}-{PROJECT['version']}.dist-info"


def test_wheel_holds_every_file_of_the_package(wheel: zipfile.ZipFile) -> None:
    """Every module, subpackages included, and every data file under deckgen/ is shipped."""
    package = ROOT / "deckgen"
    files = {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {f for f in files if f.endswith(".py")} >= {
        "deckgen/__init__.py",
        "deckgen/cli/__init__.py",
    }
    assert files - set(wheel.namelist()) == set()


def test_wheel_holds_nothing_else(wheel: zipfile.ZipFile) -> None:
    """Only the deckgen package and the distribution's metadata: no tests, no benchmark."""
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert tops == {"deckgen", dist_info(wheel)}


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    """Name, version, license and project address in the wheel match pyproject."""
    info = dist_info(wheel)
    metadata = HeaderParser().parsestr(wheel.read(f"{info}/METADATA").decode())
    assert (metadata["Name"], metadata["Version"]) == (DISTRIBUTION, PROJECT["version"])
    assert (metadata["License-Expression"], metadata["License-File"]) == ("MIT", "LICENSE")
    assert wheel.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert f"Source, {REPOSITORY}" in metadata.get_all("Project-URL")
    assert metadata["Requires-Python"] == PROJECT["requires-python"]
    entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\ndeckgen = deckgen.cli:run\n" in entry_points


def test_distribution_name_is_declared_once() -> None:
    """pyproject's name is the one `deckgen --version` looks up."""
    assert PROJECT["name"] == DISTRIBUTION
    result = CliRunner().invoke(main, ["--version"], prog_name="deckgen")
    assert result.output == f"deckgen, version {PROJECT['version']}\n"


def test_license_is_mit() -> None:
    """The LICENSE file is the MIT license that pyproject declares."""
    assert PROJECT["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the deckgen authors\n")
    assert "Permission is hereby granted, free of charge" in text


def test_readme_names_this_version_and_repository() -> None:
    """Every tag the README tells people to use is this version's, in deckgen's repository."""
    readme = (ROOT / "README.md").read_text()
    tags = re.findall(r"(?:deckgen/deckgen[@/]|rev: |`@)(v\d+\.\d+\.\d+)\b", readme)
    assert len(tags) >= 5, tags
    assert set(tags) == {f"v{PROJECT['version']}"}
    assert f"  - repo: {REPOSITORY}\n    rev: v{PROJECT['version']}\n" in readme
    assert f"pipx install git+{REPOSITORY}@v{PROJECT['version']}" in readme
    assert f"pip show {DISTRIBUTION}" in readme or f"**`{DISTRIBUTION}`**" in readme
    assert "OWNER" not in readme
