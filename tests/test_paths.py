"""Names become paths only when they are safe; the data folder can be moved by flag or variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_dj.errors import TuiDjError
from tui_dj.paths import DATA_DIR_ENV, check_profile_name, data_dir, profile_dir


@pytest.mark.parametrize("name", ["ana", "Ana-2", "night.owl", "x_y", "a" * 64])
def test_good_profile_names(name: str) -> None:
    assert check_profile_name(name) == name


@pytest.mark.parametrize("name", ["../../etc", "a/b", "a\\b", "a\x00b", "", ".", "..", "a" * 300, ".hidden", "ana..x", "über", "a b"])
def test_bad_profile_names_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(TuiDjError) as err:
        profile_dir(tmp_path, name)
    assert "\n" not in str(err.value)
    assert "\x00" not in str(err.value)


def test_data_dir_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert "tui-dj" in str(data_dir())


def test_tests_never_see_the_real_home(scratch_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The autouse fixture in conftest: a test that forgets --data-dir writes to a scratch folder.
    assert Path.home() == scratch_home and Path("~").expanduser() == scratch_home
    assert data_dir().is_relative_to(scratch_home)
    monkeypatch.delenv(DATA_DIR_ENV)
    assert data_dir().is_relative_to(scratch_home)  # the platform's folder follows $XDG_DATA_HOME
