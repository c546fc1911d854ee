"""The package's own errors: bad input a user can fix, each with a message that says how.

Every command-line entry point (``python -m replicate.runs``, ``replicate.data.build``,
``replicate.data.flow``, the bench scripts and tools) is wrapped in :func:`cli`: a
:class:`UsageError` becomes one line on stderr, ``error: <what is wrong and how to fix it>``,
and exit code 2 (argparse's code for bad usage), with no traceback and nothing written.
Any other exception is a bug and keeps its traceback.

The subclasses also derive from the built-in error a caller would catch for the same thing
(``KeyError`` for an unknown name, ``ValueError`` for a bad value, ``FileNotFoundError`` for a
missing input), so code written against those keeps working.
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


class UsageError(Exception):
    """Bad input: the message names what is wrong and what to do instead."""

    def __str__(self) -> str:  # KeyError would repr() its message: quotes around one line
        return str(self.args[0]) if self.args else ""


class UnknownNameError(UsageError, KeyError):
    """An unknown paper, run, profile, model, role or format; the message lists the known ones."""


class BadValueError(UsageError, ValueError):
    """A setting outside what can work (``num_classes=0``, ``seeds: 0``)."""


class MissingInputError(UsageError, FileNotFoundError):
    """An input file or folder that is not there (a dataset root, a source run's weights)."""


def cli(main: F) -> F:
    """Wrap a ``main(argv)``: a :class:`UsageError` prints ``error: ...`` on stderr and exits 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper  # type: ignore[return-value]
