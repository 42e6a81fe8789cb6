"""The one exception type that reaches the user as a single clear sentence."""


class TuiDjError(Exception):
    """A problem the user can fix; its message is shown as is, without a traceback."""
