"""Your own music files as catalog rows: tags read, features borrowed from a Spotify catalog where it
knows the song, else measured from the audio (pure library code: no Rich, no Textual, no torch).

`analyse` (one file in, numbers out) lives in `tui_dj.catalog.music.analyse`; it is not re-exported
here, where its name would hide the module of the same name."""

from tui_dj.catalog.music.analyse import (
    AUDIO_EXTRA_HINT,
    BORROWED,
    ESTIMATED,
    MEASURED,
    AnalysisResult,
)
from tui_dj.catalog.music.match import FeatureSource, MatchResult, match_tracks
from tui_dj.catalog.music.pipeline import (
    PROVENANCE_CODES,
    MusicImport,
    MusicProgress,
    expand_provenance,
    import_music,
    local_track_id,
)
from tui_dj.catalog.music.scan import AUDIO_EXTENSIONS, scan
from tui_dj.catalog.music.tags import Tags, read_tags

__all__ = [
    "AUDIO_EXTENSIONS",
    "AUDIO_EXTRA_HINT",
    "BORROWED",
    "ESTIMATED",
    "MEASURED",
    "PROVENANCE_CODES",
    "AnalysisResult",
    "FeatureSource",
    "MatchResult",
    "MusicImport",
    "MusicProgress",
    "Tags",
    "expand_provenance",
    "import_music",
    "local_track_id",
    "match_tracks",
    "read_tags",
    "scan",
]
