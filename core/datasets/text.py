"""Reading the plain-text skeleton formats (MSR Action3D, NTU RGB+D) with one set of error messages.

Both readers must turn a missing, unreadable or non-ASCII file into the same BadInputError wording, so that
`kinact datasets` reports a broken file the same way whichever dataset it belongs to.
"""
from __future__ import annotations

import os

from kinact.core.errors import BadInputError


def read_ascii(path: str | os.PathLike) -> str:
    """The whole file as ASCII text; BadInputError naming the path if it is missing, unreadable or not ASCII."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("ascii")
    except FileNotFoundError:
        raise BadInputError(path, "no such file") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(path, f"not a text file (byte {exc.start} is not ASCII)") from None
