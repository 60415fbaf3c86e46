"""Money moves are deliberate: show what will be sent, and ask on a terminal."""

from __future__ import annotations

import enum
from typing import TextIO

__all__ = ["Decision", "confirm"]


class Decision(enum.Enum):
    SEND = "send"
    DECLINED = "declined"  # asked, and the answer was not yes
    REFUSED = "refused"  # no terminal to ask on, and no --yes


def confirm(preview: str, *, yes: bool, stdin: TextIO, stderr: TextIO) -> Decision:
    """``--yes`` sends; a terminal is asked (only "y" or "yes" sends); anything else refuses.

    Without a terminal there is nobody to read the question: a cron job or a pipe must say
    ``--yes`` explicitly rather than have a stray newline on stdin agree for it.
    """
    if yes:
        return Decision.SEND
    if not (stdin.isatty() and stderr.isatty()):  # the question must be seen, and answered
        return Decision.REFUSED
    stderr.write(f"{preview}\nSend it? [y/N] ")
    stderr.flush()
    answer = stdin.readline()
    return Decision.SEND if answer.strip().lower() in ("y", "yes") else Decision.DECLINED
