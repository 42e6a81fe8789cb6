"""The exceptions that reach the user as a single clear sentence."""


class TuiDjError(Exception):
    """A problem the user can fix; its message is shown as is, without a traceback."""


class Interrupted(TuiDjError):
    """The user pressed ctrl-c; the message says what was kept. Exits with 130."""
