"""Property tests: whatever bytes a user feeds `prep`, the outcome is a catalog or one clear sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tui_dj.catalog.importer import import_files
from tui_dj.catalog.model import FEATURES, Catalog
from tui_dj.errors import TuiDjError

# No example database: failures are reproduced from the seed hypothesis prints.
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

HEADERS = {
    "kaggle": ["genre", "artist_name", "track_name", "track_id", "popularity", "duration_ms", "key", "mode",
               "time_signature", *FEATURES],
    "exportify": ["Track URI", "Track Name", "Album Name", "Artist Name(s)", "Duration (ms)", "Popularity",
                  "Genres", *(f.capitalize() for f in FEATURES)],
    "tracks600k": ["id", "name", "popularity", "duration_ms", "artists", "id_artists", *FEATURES],
    "maharshipandya": ["", "track_id", "artists", "album_name", "track_name", "track_genre", *FEATURES],
}

numbers = st.one_of(
    st.floats(min_value=0, max_value=1).map(lambda x: f"{x:.4f}"),
    st.floats(min_value=0, max_value=1).map(lambda x: f"{x:.4f}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-100, max_value=300).map(lambda x: f"{x:.6g}"),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "NA", "nan", "1e400", "-0", "8.19E-06", "4-Apr", "0", "1,5", " 0.5 ", "9" * 400]),
)
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "spotify:track:1o3amYz7RPk7OpVLbarVcQ", "['a', 'b']", "[" * 50, "a;b", '"', "NA"]),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(min_value=1000, max_value=200_000)),
)
cells = st.one_of(numbers, numbers, texts)


def _outcome(path: Path) -> Catalog | TuiDjError:
    """Import `path`; any exception other than TuiDjError fails the test by propagating."""
    try:
        catalog = import_files([path])
    except TuiDjError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        event("refused: " + message.replace(str(path), "FILE")[:60])
        return exc
    _check(catalog)
    event("imported")
    return catalog


def _check(catalog: Catalog) -> None:
    m = catalog.manifest
    assert len(catalog) == len(catalog.tracks) == m["rows_kept"] > 0
    assert np.isfinite(catalog.features).all()
    assert catalog.features.min() >= 0 and catalog.features.max() <= 1
    assert np.isfinite(catalog.raw_features()).all()
    assert m["rows_read"] == m["rows_kept"] + m["duplicates_merged"] + sum(m["dropped"].values())
    assert catalog.tracks["track_id"].is_unique
    assert (catalog.tracks["duration_ms"] > 0).all()


def _csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    def quote(cell: str) -> str:
        if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    return "\n".join(delimiter.join(quote(c) for c in row) for row in [header, *rows]) + "\n"


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    _outcome(path)


@FUZZ
@given(
    fmt=st.sampled_from(sorted(HEADERS)),
    extra=st.lists(st.text(max_size=20), max_size=4),
    drop=st.integers(min_value=0, max_value=3),
    seed=st.randoms(use_true_random=False),
    rows=st.lists(st.lists(cells, min_size=30, max_size=30), min_size=1, max_size=8),
)
def test_random_headers_and_cells(tmp_path: Path, fmt: str, extra: list[str], drop: int, seed, rows) -> None:
    header = HEADERS[fmt] + extra
    seed.shuffle(header)
    header = header[drop:]
    body = [row[: len(header)] for row in rows]
    path = tmp_path / "cells.csv"
    path.write_text(_csv(header, body), encoding="utf-8", errors="surrogatepass")
    _outcome(path)


def _valid_rows(names: list[str], values: list[float]) -> list[list[str]]:
    rows = []
    for i, name in enumerate(names):
        track_id = f"{i:022d}"
        features = [f"{(values[i % len(values)] + j / 10) % 1:.4f}" for j in range(len(FEATURES))]
        features[FEATURES.index("loudness")] = "-7.5"
        features[FEATURES.index("tempo")] = "120"
        rows.append(["Pop", "Artist", name, track_id, "50", "200000", "C#", "Major", "4-Apr", *features])
    return rows


@FUZZ
@given(
    names=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=6),
    values=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=3),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1", "ascii"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
)
def test_random_encodings_and_truncations(tmp_path: Path, names, values, encoding, delimiter, cut) -> None:
    text = _csv(HEADERS["kaggle"], _valid_rows(names, values), delimiter)
    data = text.encode(encoding, errors="replace")
    if cut is not None:
        data = data[: max(0, len(data) - cut)]
    path = tmp_path / "encoded.csv"
    path.write_bytes(data)
    outcome = _outcome(path)
    if cut is None and encoding in ("utf-8", "utf-8-sig", "utf-16") and isinstance(outcome, Catalog):
        assert len(outcome) == len(names)


@FUZZ
@given(
    names=st.lists(st.text(min_size=1, max_size=10), min_size=2, max_size=5),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.sampled_from(['"', ",", "\n", "\r", "\x00", "", "\ufeff", "[", "é"])),
        min_size=1, max_size=6,
    ),
)
def test_mutated_valid_files(tmp_path: Path, names: list[str], edits) -> None:
    text = _csv(HEADERS["kaggle"], _valid_rows(names, [0.3]))
    for position, insert in edits:
        position %= len(text) + 1
        text = text[:position] + insert + text[position + (1 if insert == "" else 0):]
    path = tmp_path / "mutated.csv"
    path.write_text(text, encoding="utf-8")
    _outcome(path)


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(min_value=1 << 20, max_value=3 << 20), where=st.sampled_from(["header", "name", "number"]))
def test_huge_fields(tmp_path: Path, size: int, where: str) -> None:
    header = HEADERS["kaggle"].copy()
    rows = _valid_rows(["a", "b"], [0.5])
    if where == "header":
        header[0] = "g" * size
    elif where == "name":
        rows[0][2] = "n" * size
    else:
        rows[1][-1] = "9" * size
    path = tmp_path / "huge.csv"
    path.write_text(_csv(header, rows), encoding="utf-8")
    outcome = _outcome(path)
    if where == "name":
        assert isinstance(outcome, Catalog) and len(outcome) == 2
