"""When the console's garbage collection runs: the catalog frozen out of it once it has opened,
and the oldest generation's collection moved to just after a repaint, while the person reads."""

from __future__ import annotations

import gc


def freeze_what_is_loaded() -> None:
    """Collect once, then leave everything alive now out of every later collection.

    The catalog is millions of long-lived objects; a full collection walking them would freeze
    the screen for a third of a second now and then.
    """
    gc.collect()
    gc.freeze()


def collect_if_due(pending: int) -> None:
    """Run the oldest generation's collection now, if it is nearly due and no key is waiting.

    Left to itself it comes every few keys and, walking the app's and the session's objects,
    takes 10-20 ms that would land inside the next key's response; the person is reading the
    screen now.
    """
    # Half-way: one key's work alone can run several younger collections.
    if pending == 0 and gc.isenabled() and gc.get_count()[2] >= gc.get_threshold()[2] // 2:
        gc.collect()
