"""The version means one thing wherever it is read: the package's metadata, `tui_dj.__version__`,
`tui-dj --version`, and the newest section of the changelog, which names what changed in it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import tui_dj
from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _declared() -> str:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def test_the_version_is_the_same_everywhere_it_is_read() -> None:
    version = _declared()
    assert tui_dj.__version__ == version
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"tui-dj {version}"


def test_the_changelog_begins_with_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (\S+)", text, flags=re.MULTILINE)
    assert sections and sections[0] == _declared(), sections[:3]
