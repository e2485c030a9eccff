"""The newcomer's set-up: the lock file, the install from it, and the Python check."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _pins(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """``{name: (version, [sha256 …])}`` from a uv/pip-tools lock with hashes."""
    pins: dict[str, tuple[str, list[str]]] = {}
    name = None
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            pins[name] = (match.group(2), [])
        elif name and "--hash=sha256:" in line:
            pins[name][1].append(line.split("--hash=sha256:")[1].split()[0])
        elif line and not line.startswith(" "):
            name = None
    return pins


def _declared() -> list[Requirement]:
    """What pyproject.toml asks for: runtime, the dev extra and the build group."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
        *project["dependency-groups"]["build"],
    ]
    return [Requirement(line) for line in lines]


def test_the_lock_pins_every_declared_dependency_within_its_range_with_hashes():
    pins = _pins(LOCK)
    assert len(pins) > 50, "runtime and dev dependencies with what they pull in"
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run make lock"
        version, _hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {requirement}"
        )
    unhashed = sorted(name for name, (_version, hashes) in pins.items() if not hashes)
    assert unhashed == [], "every pin carries its sha256 hashes"
    assert all(len(h) == 64 for _v, hashes in pins.values() for h in hashes)


def test_the_running_environment_is_exactly_its_lock():
    # .venv comes from requirements.lock; make test-latest's .venv-latest from its own lock.
    own = Path(sys.prefix) / "requirements.lock"
    pins = _pins(own if own.exists() else LOCK)
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    installed.pop("arrears-portal")
    installed.pop("pip", None)
    assert installed == {name: version for name, (version, _hashes) in pins.items()}


def _without_python(tmp_path: Path, version: str) -> dict[str, str]:
    """An environment whose only ``python3`` is a stand-in claiming ``version``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "env"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    fake = bin_dir / "python3"
    fake.write_text(
        f'#!/bin/bash\ncase "$1" in --version|-V) echo "Python {version}" ;; *) exit 1 ;; esac\n'
    )
    fake.chmod(0o755)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path)}


def _make(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``make ARGUMENTS`` in the project, without the flags of a make this suite may run under."""
    if env is None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    return subprocess.run(
        [shutil.which("make"), "--no-print-directory", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_older_python_is_refused_with_the_fix(tmp_path):
    result = _make("python-check", env=_without_python(tmp_path, "3.9.2"))
    assert result.returncode != 0
    assert "the portal needs Python 3.11 or newer; found: Python 3.9.2" in result.stderr
    assert "sudo apt-get install -y --no-install-recommends python3 python3-venv" in result.stderr


def test_make_run_takes_host_and_port():
    dry_run = _make("-n", "run", "HOST=0.0.0.0", "PORT=8123")
    assert dry_run.returncode == 0, dry_run.stderr
    assert 'run --host "0.0.0.0" --port "8123"' in dry_run.stdout
    # Every interface: the address to open is this machine's name.
    hostname = subprocess.run(["hostname"], capture_output=True, text=True, check=True).stdout
    assert f'seed-demo --url "http://{hostname.strip()}:8123"' in dry_run.stdout
    assert "make run HOST=0.0.0.0 PORT=8000" in _make("help").stdout
