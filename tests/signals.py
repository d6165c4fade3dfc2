"""Signals as a user's terminal gives them, for tests that interrupt gctune."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """``preexec_fn`` for a child that must see Ctrl-C: a shell without job control starts
    background commands with SIGINT ignored, and the ignoring is inherited down to a
    test's children; a user's gctune at a terminal gets the default, which is what the
    tests that send SIGINT are about."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
