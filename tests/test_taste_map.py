"""The taste map: the projection prep fits and stores (scikit-learn at prep time, plain numbers in
the manifest, numpy in the console), the density and the marks, and `m` in the console."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.pilot import Pilot

from tui_dj.catalog import builtin_catalog, load_catalog
from tui_dj.catalog.prep import run_prep
from tui_dj.catalog.projection import (
    MANIFEST_KEY,
    Projection,
    fit_projection,
    pca_projection,
    projection_of,
)
from tui_dj.session import open_session
from tui_dj.tui.app import DJApp
from tui_dj.tui.taste_map import MapPlane, TasteMap, density_cells, view_marks


def test_scikit_learn_and_numpy_fit_the_same_plane() -> None:
    features = builtin_catalog(2000).features
    fitted, plain = fit_projection(features), pca_projection(features)
    assert np.allclose(fitted.components, plain.components, atol=1e-5)
    assert np.allclose(fitted.mean, plain.mean, atol=1e-6)
    assert 0 < fitted.explained[1] <= fitted.explained[0] < 1
    xy = fitted.project(features)
    assert xy.shape == (2000, 2) and xy.dtype == np.float32
    # The first axis carries more of the catalog's spread than the second, and than any feature.
    assert xy[:, 0].var() >= xy[:, 1].var() and xy[:, 0].var() >= features.var(axis=0).max()
    assert Projection.from_dict(json.loads(json.dumps(fitted.to_dict()))) == fitted


def test_prep_stores_the_projection_and_an_old_catalog_still_opens(tmp_path: Path) -> None:
    out = tmp_path / "catalog"
    run_prep([], out, synthetic=400)
    manifest = json.loads((out / "manifest.json").read_text())
    stored = manifest[MANIFEST_KEY]
    assert stored["method"] == "pca" and len(stored["components"]) == 2
    catalog = load_catalog(out)
    assert projection_of(catalog) == Projection.from_dict(stored)
    # A catalog saved before projections existed (or with a mangled one) gets a numpy PCA on load.
    for broken in (None, {"components": [[1.0]], "mean": []}):
        if broken is None:
            manifest.pop(MANIFEST_KEY)
        else:
            manifest[MANIFEST_KEY] = broken
        (out / "manifest.json").write_text(json.dumps(manifest))
        old = load_catalog(out)
        assert np.allclose(projection_of(old).components, Projection.from_dict(stored).components, atol=1e-5)
        assert MANIFEST_KEY in old.manifest


def test_density_is_braille_dots_where_songs_are() -> None:
    counts = np.zeros((8, 4), np.int64)  # two rows and two columns of cells
    counts[0, 0] = 5  # top-left dot of the top-left cell
    counts[3, 1] = 5  # bottom-right dot of the same cell
    counts[4:8, 2:4] = 9  # the whole bottom-right cell, crowded
    text, tiers = density_cells(counts)
    assert text == [chr(0x2800 + 0x01 + 0x80) + " ", " " + chr(0x28FF)]
    assert tiers.tolist() == [[1, 0], [0, 3]]
    # Among crowded dots, a stray song on its own is left out: the shape shows, not the dust.
    counts[7, 0] = 1
    text, tiers = density_cells(counts)
    assert text[1][0] == " " and tiers[1, 0] == 1


def test_marks_follow_the_view(tmp_path: Path) -> None:
    catalog = builtin_catalog(600)
    plane = MapPlane(catalog)
    assert plane.unit.shape == (600, 2) and plane.unit.min() >= 0 and plane.unit.max() <= 1
    with open_session(catalog=catalog, data_dir=tmp_path, seed=3) as session:
        session.start()
        liked = session.view().now_playing
        assert liked is not None
        session.react("like")
        session.react("skip")
        view = session.react("dislike")
    assert (liked.row, "like") in view.reacted and any(r == "dislike" for _, r in view.reacted)
    marks = view_marks(view, plane, 40, 12)
    kinds = [kind for _, _, kind in marks]
    assert kinds[-1] == "taste" and {"like", "dislike", "now", "next"} <= set(kinds)
    x, y = plane.unit[liked.row]
    assert (min(int(x * 40), 39), min(int((1 - y) * 12), 11), "like") in marks
    # The taste mark moves with the taste.
    moved = replace(view, taste=tuple(replace(row, scaled=1.0) for row in view.taste))
    assert view_marks(moved, plane, 40, 12)[-1] != marks[-1]


async def _settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, DJApp)
    deadline = time.monotonic() + 30
    while app.pending or app.view is None:
        assert time.monotonic() < deadline
        await pilot.pause(0.01)
    await pilot.pause()


@pytest.fixture
def app(tmp_path: Path) -> Any:
    session = open_session(catalog=builtin_catalog(500), data_dir=tmp_path, seed=7)
    yield DJApp(session, autoplay=False)
    session.close()


async def test_m_shows_the_map_and_its_marks_move_with_reactions(app: DJApp) -> None:
    async with app.run_test(size=(80, 30)) as pilot:
        await _settled(pilot)
        taste_map = app.screen.query_one(TasteMap)
        assert not taste_map.display  # not unasked below 120x40
        await pilot.press("m")
        await pilot.pause()
        assert taste_map.display and taste_map.size.width > 10
        before = taste_map.marks()
        assert {"now", "next", "taste"} <= {kind for _, _, kind in before}
        await pilot.press("l")
        await _settled(pilot)
        after = taste_map.marks()
        assert "like" in {kind for _, _, kind in after} and after != before
        text = taste_map.render().plain
        assert "◆" in text and "●" in text and any("\u2801" <= ch <= "\u28ff" for ch in text)
        await pilot.press("m")
        await pilot.pause()
        assert not taste_map.display
        keys = {binding_id: keys for keys, _, binding_id in app.screen.key_list()}  # type: ignore[attr-defined]
        assert keys["dj.map"] == "m" and "dj.map" in DJApp.binding_ids()


async def test_the_map_shows_unasked_at_120x40_and_m_hides_it(app: DJApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        taste_map = app.screen.query_one(TasteMap)
        assert taste_map.display and taste_map.border_title == "Taste map"
        await pilot.press("m")
        await pilot.pause()
        assert not taste_map.display
        await pilot.resize_terminal(130, 45)  # the person's choice outlasts a resize
        await pilot.pause()
        assert not taste_map.display


async def test_a_map_asked_for_in_a_short_terminal_says_why_it_is_not_there(app: DJApp) -> None:
    async with app.run_test(size=(80, 18)) as pilot:
        await _settled(pilot)
        app.clear_notifications()
        await pilot.press("m")
        await pilot.pause()
        assert any("22 rows" in n.message for n in app._notifications)


async def test_the_rows_drawn_again_after_a_key_leave_no_stale_mark(app: DJApp) -> None:
    """A key redraws only the map's rows whose marks moved: what is on screen must be what a
    whole redraw would show."""
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        taste_map = app.screen.query_one(TasteMap)
        first = taste_map.marks()
        for key in "lnddln":
            await pilot.press(key)
            await _settled(pilot)
        assert taste_map.marks() != first
        shown = app.export_screenshot()
        taste_map.refresh()  # the whole map again, from scratch
        await pilot.pause()
        assert app.export_screenshot() == shown
