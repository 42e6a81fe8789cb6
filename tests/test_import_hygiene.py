"""The layers point one way: the core never pulls in the UI, and `--help` never pulls in torch."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("module", ["tui_dj.catalog", "tui_dj.catalog.music", "tui_dj.learn", "tui_dj.session",
                                    "tui_dj.store", "tui_dj.playback", "tui_dj.panels"])
def test_core_never_imports_textual(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert "textual" not in loaded


def test_the_console_never_imports_scikit_learn() -> None:
    # prep fits the taste map's projection; the console reads it from the catalog as plain numbers.
    loaded = _modules_after("import tui_dj.tui, tui_dj.tui.app, tui_dj.tui.taste_map")
    assert "tui_dj.tui.taste_map" in loaded
    assert "sklearn" not in loaded


def test_the_console_draws_its_first_screen_without_pandas_or_torch() -> None:
    # The first screen shows while the session opens: pandas waits for the catalog to be read,
    # and the feature network plays in numpy (learn/playing.py).
    loaded = _modules_after("import tui_dj.tui.console, tui_dj.tui.app, tui_dj.session")
    assert "tui_dj.tui.app" in loaded
    assert "pandas" not in loaded and "pyarrow" not in loaded
    assert "torch" not in loaded


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys\nfrom tui_dj.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
    )
    loaded = _modules_after(code)
    assert "tui_dj.cli" in loaded
    assert "torch" not in loaded
    assert "textual" not in loaded


def test_no_module_holds_more_than_one_job_s_worth_of_lines() -> None:
    from pathlib import Path

    import tui_dj

    root = Path(tui_dj.__file__).parent
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not long, f"split these modules by job: {long}"
