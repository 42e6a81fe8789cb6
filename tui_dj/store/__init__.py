"""What tui-dj keeps between sessions: the listening history, each profile's folder, and exports."""

from tui_dj.store.history import HistoryStore, open_history
from tui_dj.store.profiles import MODEL_FILE, ProfileLock, ProfilePaths, locations, profile_paths
from tui_dj.store.records import HistoryEvent, LikedSong, SessionSummary

__all__ = [
    "MODEL_FILE",
    "HistoryEvent",
    "HistoryStore",
    "LikedSong",
    "ProfileLock",
    "ProfilePaths",
    "SessionSummary",
    "locations",
    "open_history",
    "profile_paths",
]
