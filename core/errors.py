"""One exception type for every problem a user can fix by changing their input.

The command line turns it into a single line on stderr and exit code 2; anything else is a bug and keeps
its traceback. Keeping the file name inside the message is the point: a user with 861 files needs to
know which one is broken, not which line of our code noticed.
"""
from __future__ import annotations

import os


class KinactError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class BadInputError(KinactError):
    """A file that cannot be read as what it claims to be."""

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)
