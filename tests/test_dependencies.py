"""Every runtime dependency installs from wheels on each supported CPython and platform.

A dependency that stops shipping wheels for a Python version would make `pip install` build
it from source, which fails for users without a compiler (a Rust toolchain, for some); this
catches it before they do.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from conftest import ROOT
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from pipindex import index_problem, require_index

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PYTHONS = ("3.11", "3.12", "3.13", "3.14")

# pip takes --platform tags literally, except that it adds older macOS versions itself:
# list every manylinux a wheel may carry up to glibc 2.28 (Debian 10, RHEL 8 and newer).
MANYLINUX = [
    *(f"manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]
PLATFORMS = {
    "linux-x86_64": MANYLINUX,
    "macos-arm64": ["macosx_14_0_arm64"],
    "windows-amd64": ["win_amd64"],
}
# pip evaluates environment markers for the machine it runs on, whatever --platform says,
# so the test follows marker-only requirements (colorama on Windows, say) itself.
MARKERS = {
    "linux-x86_64": ("linux", "Linux", "x86_64", "posix"),
    "macos-arm64": ("darwin", "Darwin", "arm64", "posix"),
    "windows-amd64": ("win32", "Windows", "AMD64", "nt"),
}


def runtime_requirements() -> list[Requirement]:
    """pyproject's [project].dependencies."""
    return [Requirement(text) for text in PROJECT["dependencies"]]


def marker_environment(python: str, platform: str) -> dict[str, str]:
    """The values environment markers see on CPython ``python`` on ``platform``."""
    sys_platform, system, machine, os_name = MARKERS[platform]
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "platform_python_implementation": "CPython",
        "sys_platform": sys_platform,
        "platform_system": system,
        "platform_machine": machine,
        "os_name": os_name,
        "extra": "",
    }


def download(requirements: list[str], python: str, platform: str, dest: Path) -> None:
    """pip download ``requirements`` and what they need, as wheels for the target."""
    command = [
        *(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"),
        *("--implementation", "cp", "--python-version", python),
        *(f"--platform={tag}" for tag in PLATFORMS[platform]),
        *("--dest", str(dest)),
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    errors = [line for line in result.stderr.splitlines() if "is ignored" not in line]
    assert result.returncode == 0, "\n".join(errors)


def unmet_requirements(dest: Path, environment: dict[str, str]) -> list[str]:
    """Requirements of the downloaded wheels, for the target, that no downloaded wheel meets."""
    have = {}
    for wheel in dest.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        have[name] = version
    unmet = []
    for wheel in dest.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            headers = HeaderParser().parsestr(archive.read(metadata).decode())
        for text in headers.get_all("Requires-Dist") or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            version = have.get(canonicalize_name(requirement.name))
            if version is None or version not in requirement.specifier:
                unmet.append(f"{requirement.name}{requirement.specifier}")
    return sorted(set(unmet))


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("python", PYTHONS)
def test_dependencies_have_wheels(python: str, platform: str, tmp_path: Path) -> None:
    """pip resolves every runtime dependency, and theirs, to binary wheels for the target."""
    require_index()
    environment = marker_environment(python, platform)
    wanted = [
        str(r) for r in runtime_requirements() if r.marker is None or r.marker.evaluate(environment)
    ]
    for _ in range(5):  # each round follows one more level of marker-only requirements
        download(wanted, python, platform, tmp_path)
        wanted = unmet_requirements(tmp_path, environment)
        if not wanted:
            break
    assert wanted == []
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".whl"] * len(list(tmp_path.iterdir()))
    names = {parse_wheel_filename(p.name)[0] for p in tmp_path.iterdir()}
    assert {canonicalize_name(r.name) for r in runtime_requirements()} <= names


def test_requires_python_is_the_tested_range() -> None:
    """requires-python starts at the oldest tested Python; the classifiers list the tested."""
    assert PROJECT["requires-python"] == f">={PYTHONS[0]}"
    prefix = "Programming Language :: Python :: "
    declared = [c.removeprefix(prefix) for c in PROJECT["classifiers"] if c.startswith(prefix)]
    assert declared == ["3 :: Only", *PYTHONS]


def test_markers_follow_the_target() -> None:
    """A Windows-only requirement counts for Windows and not for Linux."""
    marker = Marker('platform_system == "Windows" and python_version >= "3.12"')
    assert marker.evaluate(marker_environment("3.12", "windows-amd64"))
    assert not marker.evaluate(marker_environment("3.12", "linux-x86_64"))
    assert not marker.evaluate(marker_environment("3.11", "windows-amd64"))


def test_an_unreachable_index_is_reported() -> None:
    """With only an index that does not answer, the check finds no index (and would skip)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(ROOT / "tests"),
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple/",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_RETRIES": "0",
    }
    assert index_problem(env) is not None
