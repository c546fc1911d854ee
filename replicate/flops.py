"""Compute and size of a model: FLOPs of one forward pass and the number of parameters.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (DESIGN section 8), not by
hand. Its convention: a convolution or matmul costs **2 FLOPs per multiply-add** (one
multiply, one add); bias additions, BN, ReLU and pooling are not counted.

The tran2018 paper's "FLOPs" (Figure 3: plotted, no numbers in the text) are most likely
multiply-adds, half of what this counter reports: VMZ's model zoo, from the same group and
code, lists C3D at 16x112x112 as 38.5 GFLOPs, which is C3D's multiply-add count. To compare
with such figures, divide :func:`count_flops` by 2.

A model built on the ``meta`` device (``with torch.device("meta"): create(...)``) is counted
without allocating or computing anything, which makes full-size counts instant.

:func:`gpu_hours` turns FLOPs into time on :data:`REFERENCE_GPU`, for the paper-scale cost
estimates in the settings tables. None of the five papers names its GPUs (tran2018: "synchronous
distributed SGD on GPU clusters using caffe2"), so the reference is stated, not the paper's.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """FLOPs (2 per multiply-add, as ``FlopCounterMode`` counts) of one forward pass of
    ``model`` on one input of shape ``input_shape`` (without the batch dimension, e.g.
    (3, 8, 112, 112)); the batch is 1.

    Runs in eval mode without gradients, so BN statistics are untouched, and restores the
    model's training flag. The input is built on the device of the model's parameters.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    counter = FlopCounterMode(display=False)
    try:
        model.eval()
        with torch.no_grad(), counter:
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
    return counter.get_total_flops()


#: the GPU the paper-scale estimates assume (fp32, as the papers trained): a V100, common when
#: tran2018 was written; ``utilization`` is the share of peak that 3D ConvNet training sustains
#: (a stated assumption, typically 30-50%). The estimate is an order of magnitude, not a measurement.
REFERENCE_GPU = {"name": "V100", "fp32_tflops": 15.7, "utilization": 0.4}
#: a training clip costs about 3 forward passes: the forward, and backward's two (input and weight gradients)
TRAIN_PASSES = 3


def gpu_hours(flops: float, gpu: dict = REFERENCE_GPU) -> float:
    """Hours of one ``gpu`` (default :data:`REFERENCE_GPU`) for ``flops`` floating-point operations."""
    return flops / (gpu["fp32_tflops"] * 1e12 * gpu["utilization"]) / 3600


def count_params(model: nn.Module) -> int:
    """Number of parameters (BN affine parameters included, buffers such as BN running
    statistics excluded: the convention of the paper's Table 2 and torchvision's
    ``num_params``)."""
    return sum(p.numel() for p in model.parameters())
