"""Model registry: every network of the suite is built by name (timm style).

A builder is a function that returns an ``nn.Module`` and accepts, at least, the keyword
arguments shared by the whole suite (DESIGN section 8: ``create(name, num_classes, **scale)``):

``num_classes``
    size of the classifier output.
``width``
    multiplier on every channel width (1.0 = the paper; the ``mini`` profile uses 0.25).
``in_channels``
    input channels: 3 for RGB, 2 for one optical-flow frame pair (x, y).
``clip_len``
    frames per input clip; only architectures whose shape depends on it (R2D, whose conv1
    spans the whole clip) use it, the others accept and ignore it.

Builders register themselves with the :func:`register` decorator when their module is
imported; ``replicate.models`` imports every model module, so ``create`` sees them all.
"""
from __future__ import annotations

import difflib
import fnmatch
import inspect
import numbers
from typing import Any, Callable, TypeVar, overload

from torch import nn

from ..errors import BadValueError, UnknownNameError

Builder = Callable[..., nn.Module]
B = TypeVar("B", bound=Builder)

_REGISTRY: dict[str, Builder] = {}


@overload
def register(fn: B, *, name: str | None = None) -> B: ...
@overload
def register(fn: None = None, *, name: str | None = None) -> Callable[[B], B]: ...


def register(fn: B | None = None, *, name: str | None = None) -> B | Callable[[B], B]:
    """Register a model builder under ``name`` (default: the function's ``__name__``).

    Usable as ``@register``, ``@register(name="...")`` or ``register(fn, name="...")``.
    Registering a name twice raises ``ValueError``: a silent overwrite would make
    ``create`` depend on import order.
    """

    def add(f: B) -> B:
        key = name or f.__name__
        if key in _REGISTRY:
            raise ValueError(f"model {key!r} is already registered (by {_REGISTRY[key].__module__})")
        _REGISTRY[key] = f
        return f

    return add if fn is None else add(fn)


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally filtered by a shell-style pattern
    (``fnmatch``), e.g. ``list_models("mc*_18")``."""
    names = sorted(_REGISTRY)
    return names if pattern is None else [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def accepts(name: str, argument: str) -> bool:
    """Whether the builder of the registered model ``name`` takes ``argument`` (``input_size``: nets
    with fully connected layers are built for one input size)."""
    return argument in inspect.signature(_REGISTRY[name]).parameters if name in _REGISTRY else False


def create(name: str, num_classes: int = 400, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name`` with ``num_classes`` outputs.

    ``kwargs`` go to the builder (``width``, ``in_channels``, ``clip_len`` and any
    model-specific option). An unknown name raises ``KeyError`` (``UnknownNameError``) naming
    the closest registered names and listing all of them; ``num_classes < 1`` raises
    ``ValueError`` (``BadValueError``).
    """
    try:
        builder = _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, _REGISTRY, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise UnknownNameError(
            f"unknown model {name!r}; {hint}registered models: {', '.join(sorted(_REGISTRY))}"
        ) from None
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise BadValueError(f"num_classes must be a whole number >= 1, got {num_classes!r}")
    return builder(num_classes=num_classes, **kwargs)
