"""Ask the terminal which pictures it draws, on a thread, while the console's modules load.

textual-image asks when it is imported (Sixel? the Kitty graphics protocol?) and must have its
answers before Textual takes the terminal over. A terminal that does not answer a question costs
its 0.1 s timeout (tmux never answers the Kitty one): spent waiting on this thread, that time
overlaps the imports instead of adding to the start-up. `wait()` before importing the widget.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("tui_dj.tui")

_thread: threading.Thread | None = None


def _ask() -> None:
    try:
        import textual_image.renderable  # noqa: F401  (its import is the asking)
        from textual_image._terminal import get_cell_size

        get_cell_size()  # cached for the widget, which asks on import too
    except Exception:  # the widget's own import will ask again, and say what fails
        log.info("asking the terminal for its graphics failed", exc_info=True)


def start() -> None:
    """Start asking (once)."""
    global _thread
    if _thread is not None:
        return
    # A terminal that does not answer makes textual-image log a warning with a traceback, before
    # the console's log file is set up: without a handler of its own that would reach the screen.
    # The console's log file still gets what it says later (the records propagate to the root).
    logging.getLogger("textual_image").addHandler(logging.NullHandler())
    # What textual-image imports besides itself is imported here first, so that the two threads
    # never import the same module at once (nothing of textual-image is imported before `wait`).
    import PIL.Image  # noqa: F401
    import PIL.ImageFilter  # noqa: F401
    import rich.color  # noqa: F401
    import rich.console  # noqa: F401
    import rich.control  # noqa: F401
    import rich.measure  # noqa: F401
    import rich.segment  # noqa: F401
    import rich.style  # noqa: F401

    _thread = threading.Thread(target=_ask, name="terminal-probe", daemon=True)
    _thread.start()


def wait() -> None:
    """Wait for the answers (at once when they came, or when nothing was asked)."""
    if _thread is not None:
        _thread.join()
