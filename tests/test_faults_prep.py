"""`kill -9` and a full disk while `tui-dj prep` writes: the previous catalog stays whole and loads."""

from __future__ import annotations

import errno
import random
from pathlib import Path

import numpy as np
import pytest

from tests.faults import kill_at_random, repeats, tui_dj_command
from tui_dj.catalog import builtin_catalog, load_catalog, save_catalog
from tui_dj.errors import TuiDjError


def _kill_prep_repeatedly(tmp_path: Path, times: int) -> tuple[int, int]:
    out = tmp_path / "processed"
    old = builtin_catalog(300, seed=1)
    save_catalog(old, out)
    new_fp = builtin_catalog(200_000, seed=2).fingerprint
    rng = random.Random(0)
    killed = replaced = 0
    for _ in range(times):
        # Start-up takes about a second; the kill lands anywhere from import to rename.
        killed += kill_at_random(tui_dj_command("prep", "--synthetic", "200000", "--seed", "2", "--out", str(out)), 0.2, 3.0, rng)
        loaded = load_catalog(out)
        assert loaded.fingerprint in {old.fingerprint, new_fp}
        replaced += loaded.fingerprint == new_fp
        assert len(loaded) == len(loaded.tracks) == loaded.manifest["n_tracks"]
    return killed, replaced


def test_kill_during_prep_quick(tmp_path: Path) -> None:
    killed, _ = _kill_prep_repeatedly(tmp_path, 3)
    assert killed >= 1


@pytest.mark.slow
def test_kill_during_prep_repeated(tmp_path: Path) -> None:
    killed, replaced = _kill_prep_repeatedly(tmp_path, repeats(20, 6))
    print(f"prep killed {killed} times; catalog replaced by a completed run {replaced} times; always loadable")
    assert killed >= repeats(20, 6) // 2


def test_full_disk_while_saving_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "processed"
    old = builtin_catalog(300, seed=1)
    save_catalog(old, out)

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", no_space)
    with pytest.raises(TuiDjError, match="No space left on device") as err:
        save_catalog(builtin_catalog(400, seed=2), out)
    assert "unchanged" in str(err.value)
    monkeypatch.undo()
    assert load_catalog(out).fingerprint == old.fingerprint
    assert [p.name for p in tmp_path.iterdir()] == ["processed"]
