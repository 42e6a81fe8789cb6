"""tui-dj: a terminal DJ that learns what you want to hear next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.3.4"

if TYPE_CHECKING:
    from tui_dj.session import Session


def open_session(**kwargs: Any) -> Session:
    """Open a UI-free listening session; see `tui_dj.session.open_session`."""
    from tui_dj.session.opening import open_session as _open

    return _open(**kwargs)


__all__ = ["__version__", "open_session"]
