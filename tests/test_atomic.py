"""Atomic files and folders: a failed write leaves the previous version whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_dj.atomic import atomic_directory, atomic_write, atomic_write_bytes, recover_directory
from tui_dj.errors import TuiDjError


def test_atomic_write_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "model.pt"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_failed_write_keeps_previous(tmp_path: Path) -> None:
    target = tmp_path / "model.pt"
    atomic_write_bytes(target, b"old")

    def full_disk(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(TuiDjError, match="previous file is unchanged"):
        atomic_write(target, full_disk)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_directory_swap_and_failure(tmp_path: Path) -> None:
    target = tmp_path / "catalog"
    with atomic_directory(target) as staging:
        (staging / "a").write_text("1")
    assert (target / "a").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "a").write_text("2")
        raise RuntimeError("interrupted")
    assert (target / "a").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog"]


def test_recover_after_crash_between_renames(tmp_path: Path) -> None:
    target = tmp_path / "catalog"
    with atomic_directory(target) as staging:
        (staging / "a").write_text("1")
    # A crash after the old folder was moved aside and before the new one was moved in.
    os.replace(target, tmp_path / ".catalog.old")
    recover_directory(target)
    assert (target / "a").read_text() == "1"


def test_unwritable_parent_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TuiDjError, match="Cannot write"), atomic_directory(blocker / "catalog"):
        pass
