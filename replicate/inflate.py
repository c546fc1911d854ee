"""2D -> 3D weight transfer: spread an image ConvNet's filters over time.

Mansimov et al. 2015 (section 3) initialise a 3D filter of temporal size T from a 2D filter as
``W3D[:, :, t] = alpha_t * W2D`` with ``sum_t alpha_t = 1``, so that a clip of one repeated
frame gives exactly the 2D filter's response. The four ways they compare differ only in the
alphas (:func:`alphas`):

=========  ===============================================  ===============  ============
init       alpha_t                                          T = 3            T = 2
=========  ===============================================  ===============  ============
``ia``     1/T (averaging)                                  1/3, 1/3, 1/3    1/2, 1/2
``is``     positive, summing to 1 (given, or a seeded draw) e.g. 1/4, 1/2, 1/4
``zwi``    1 at the special slice, 0 elsewhere              1, 0, 0          1, 0
``nwi``    (2T-1)/T at the special slice, -1/T elsewhere    5/3, -1/3, -1/3  3/2, -1/2
=========  ===============================================  ===============  ============

``average`` is ``ia`` under the name later papers use: I3D's inflation ("repeat the 2D filter T
times and rescale by 1/T") and ST-ResNet's temporal 1x1x3 filters (eq. 5: ``w / T'``). What each
init computes at initialisation, on frames ``x_1..x_T`` (``*`` the 2D convolution, ``s`` the
special slice): ``ia`` is ``W * mean(x)`` (blind to frame order), ``zwi`` is ``W * x_s`` and
``nwi`` is ``W * x_s + (1/T) sum_{t != s} W * (x_s - x_t)``: the 2D response plus filtered frame
differences, which see order. Biases are copied (the paper does not say; a bias added once per
output is the only choice that keeps the static-clip identity).

:func:`inflate_conv` inflates one ``Conv2d``; :func:`inflate_model` a whole 2D network, layer by
layer: convs and pools get the temporal size their layer name is given (1 by default: a
per-frame layer), BatchNorm becomes BatchNorm3d with the same statistics, and everything that
works on any number of dimensions (activations, LRN, dropout, linear layers after a flatten) is
kept. With no temporal padding, a static clip through any inflated network gives the 2D
network's logits (tests/test_inflate.py).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from .errors import BadValueError, UnknownNameError

INITS = ("ia", "is", "zwi", "nwi", "average")


def alphas(init: str, time: int, *, special: int = 0, weights: Sequence[float] | None = None,
           seed: int | None = None) -> torch.Tensor:
    """The T temporal weights of ``init`` (float64, summing to 1).

    ``special``: the slice that ``zwi`` / ``nwi`` single out (Mansimov et al.: its position "made no
    difference"; default the first). ``is``: ``weights`` (positive, summing to 1), or else a draw
    from a flat Dirichlet seeded by ``seed`` ("divided by some random constant"), or else, with
    neither, the centre-heavy (1/4, 1/2, 1/4) pattern at T = 3 and averaging otherwise.
    """
    if init not in INITS:
        raise UnknownNameError(f"unknown inflation {init!r}; known: {', '.join(INITS)}")
    if not isinstance(time, int) or time < 1:
        raise BadValueError(f"temporal size must be a whole number >= 1, got {time!r}")
    if not 0 <= special < time:
        raise BadValueError(f"special slice {special} is outside 0..{time - 1}")
    if init in ("ia", "average"):
        return torch.full((time,), 1.0 / time, dtype=torch.float64)
    if init == "zwi":
        out = torch.zeros(time, dtype=torch.float64)
        out[special] = 1.0
        return out
    if init == "nwi":
        out = torch.full((time,), -1.0 / time, dtype=torch.float64)
        out[special] = (2 * time - 1) / time
        return out
    # is: scaling
    if weights is not None:
        out = torch.as_tensor(weights, dtype=torch.float64)
        if out.shape != (time,) or (out <= 0).any() or not torch.isclose(out.sum(), torch.tensor(1.0, dtype=torch.float64)):
            raise BadValueError(f"'is' weights must be {time} positive numbers summing to 1, got {list(weights)}")
        return out
    if seed is not None:
        gen = torch.Generator().manual_seed(seed)
        draw = -torch.log(torch.rand(time, generator=gen, dtype=torch.float64))  # Exp(1): normalised, a flat Dirichlet
        return draw / draw.sum()
    if time == 3:
        return torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64)
    return torch.full((time,), 1.0 / time, dtype=torch.float64)


def _triple(value: int | Sequence[int]) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, Sequence) else (value,)


def inflate_conv(conv: nn.Conv2d, time: int, init: str = "ia", *, time_stride: int = 1, time_padding: int = 0,
                 special: int = 0, weights: Sequence[float] | None = None, seed: int | None = None) -> nn.Conv3d:
    """A ``Conv3d`` of temporal size ``time`` whose slice t is ``alpha_t`` x ``conv``'s filter (bias copied)."""
    if not isinstance(conv, nn.Conv2d):
        raise BadValueError(f"inflate_conv takes an nn.Conv2d, got {type(conv).__name__}")
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise BadValueError(f"inflate_conv handles zero padding given as numbers, got {conv.padding_mode!r} / {conv.padding!r}")
    a = alphas(init, time, special=special, weights=weights, seed=seed)
    out = nn.Conv3d(conv.in_channels, conv.out_channels, (time, *conv.kernel_size), stride=(time_stride, *conv.stride),
                    padding=(time_padding, *conv.padding), dilation=(1, *conv.dilation), groups=conv.groups,
                    bias=conv.bias is not None, device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        w = conv.weight.detach()
        out.weight.copy_(a.to(w.dtype).view(1, 1, time, 1, 1) * w.unsqueeze(2))
        if conv.bias is not None:
            out.bias.copy_(conv.bias.detach())
    return out


def _pool(pool: nn.Module, time: int, time_stride: int | None) -> nn.Module:
    stride = time if time_stride is None else time_stride
    k, s, p = (_triple(getattr(pool, name)) for name in ("kernel_size", "stride", "padding"))
    k, s, p = (v * 2 if len(v) == 1 else v for v in (k, s, p))
    if isinstance(pool, nn.MaxPool2d):
        if pool.dilation not in (1, (1, 1)) or pool.return_indices:
            raise BadValueError("inflate_model handles max pools without dilation or indices")
        return nn.MaxPool3d((time, *k), (stride, *s), (0, *p), ceil_mode=pool.ceil_mode)
    return nn.AvgPool3d((time, *k), (stride, *s), (0, *p), ceil_mode=pool.ceil_mode,
                        count_include_pad=pool.count_include_pad, divisor_override=pool.divisor_override)


def _batchnorm(bn: nn.BatchNorm2d) -> nn.BatchNorm3d:
    out = nn.BatchNorm3d(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats,
                         device=bn.weight.device if bn.affine else None, dtype=bn.weight.dtype if bn.affine else None)
    out.load_state_dict(bn.state_dict())
    return out


#: 2D layers inflate_model replaces; every other module is kept as it is (it must accept 5D input)
_REPLACED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.BatchNorm2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def inflate_model(model: nn.Module, time: Mapping[str, int] | Callable[[str, nn.Module], int] | None = None,
                  init: str = "ia", *, time_stride: Mapping[str, int] | None = None,
                  time_padding: Mapping[str, int] | None = None, special: int = 0,
                  weights: Mapping[str, Sequence[float]] | None = None, seed: int | None = None) -> nn.Module:
    """A 3D copy of the 2D ``model`` (the original is left alone), layer by layer.

    ``time`` gives each conv / pool its temporal size by module name (a mapping, or a function of
    name and module); unnamed layers get 1, i.e. they act on each frame alone. ``time_stride``
    (default: 1 for convs, the pool's temporal size for pools) and ``time_padding`` (default 0) by
    name too. ``init``, ``special``, ``seed`` as :func:`alphas`; ``weights``: the ``is`` alphas by
    name. Adaptive 2D pools become 3D ones pooling time to 1 as well. Each ``is`` layer without given
    weights draws its own (``seed`` + its position among the convs).
    """
    def size(name: str, module: nn.Module) -> int:
        if time is None:
            return 1
        return time(name, module) if callable(time) else int(time.get(name, 1))

    out = copy.deepcopy(model)
    convs = 0
    for name, module in list(out.named_modules()):
        if not isinstance(module, _REPLACED):
            continue
        if isinstance(module, nn.Conv2d):
            new = inflate_conv(module, size(name, module), init, time_stride=(time_stride or {}).get(name, 1),
                               time_padding=(time_padding or {}).get(name, 0), special=min(special, size(name, module) - 1),
                               weights=(weights or {}).get(name), seed=None if seed is None else seed + convs)
            convs += 1
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            new = _pool(module, size(name, module), (time_stride or {}).get(name))
        elif isinstance(module, nn.BatchNorm2d):
            new = _batchnorm(module)
        else:
            hw = _triple(module.output_size)
            hw = hw * 2 if len(hw) == 1 else hw
            new = (nn.AdaptiveAvgPool3d if isinstance(module, nn.AdaptiveAvgPool2d) else nn.AdaptiveMaxPool3d)((1, *hw))
        _set_module(out, name, new)
    return out


def _set_module(root: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, child, module)


def inflate_state_dict(state2d: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor], init: str = "ia", *,
                       special: int = 0, seed: int | None = None) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Fit a trained 2D network's weights to a 3D one's state (``target``: its ``state_dict()``).

    What :func:`inflate_model` does to modules, done to tensors, so that a 3D net built on its own
    (``mansimov_3d``) starts from an image net's weights: every 4D conv weight whose 5D target has
    the same filter after a temporal axis of size T becomes ``alpha_t`` x the 2D filter (``init``,
    ``special``, ``seed`` as :func:`alphas`; ``is`` draws per layer from ``seed`` + its position);
    every tensor of the target's shape is copied. Returns ``(state, left_out)``: the state to load
    with ``strict=False`` and the names of ``target`` with no fitting weight in ``state2d`` (a new
    head, a layer of another size), for the caller to check.
    """
    out: dict[str, torch.Tensor] = {}
    left_out: list[str] = []
    convs = 0
    for name, want in target.items():
        have = state2d.get(name)
        if have is None:
            left_out.append(name)
        elif have.shape == want.shape:
            out[name] = have.detach().clone()
        elif have.ndim == 4 and want.ndim == 5 and want.shape[:2] + want.shape[3:] == have.shape:
            time = want.shape[2]
            a = alphas(init, time, special=min(special, time - 1), seed=None if seed is None else seed + convs)
            out[name] = (a.to(have.dtype).view(1, 1, time, 1, 1) * have.detach().unsqueeze(2)).contiguous()
            convs += 1
        else:
            left_out.append(name)
    return out, left_out
