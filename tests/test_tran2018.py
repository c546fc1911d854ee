"""tran2018's figure helpers that need no training: Figure 6's filter views and numbers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from replicate.models import create
from replicate.papers import tran2018


def test_conv1_filters_shapes_and_scaling():
    r21d = create("r2plus1d_18", num_classes=5, width=0.25)
    with torch.no_grad():
        r21d.stem[0].weight[0].fill_(0.6)   # beyond +-0.3: clipped to 1
        r21d.stem[0].weight[1].fill_(-0.15)  # half the range: -0.5
    f = tran2018.conv1_filters(r21d)
    mid, out = r21d.stem[0].out_channels, r21d.stem[3].out_channels
    assert f["spatial"].shape == (mid, 7, 7, 3) and f["temporal"].shape == (out, mid, 3)
    assert np.all(f["spatial"][0] == 1.0) and np.allclose(f["spatial"][1], -0.5)
    assert f["spatial"].min() >= -1 and f["spatial"].max() <= 1
    r3d = create("r3d_18", num_classes=5, width=0.25)
    assert tran2018.conv1_filters(r3d)["spatiotemporal"].shape == (r3d.stem[0].out_channels, 3, 7, 7, 3)
    with pytest.raises(ValueError, match="RGB filters"):
        tran2018.conv1_filters(create("r2plus1d_18", num_classes=5, width=0.25, in_channels=2))


def test_figure6_draws_every_filter_and_statistics_see_structure():
    torch.manual_seed(0)
    r21d, r3d = create("r2plus1d_18", num_classes=5, width=0.25), create("r3d_18", num_classes=5, width=0.25)
    fig = tran2018.figure6(r21d, r3d)
    images = [ax for ax in fig.axes if ax.images]
    mid, out, r3d_out = r21d.stem[0].out_channels, r21d.stem[3].out_channels, r3d.stem[0].out_channels
    assert len(images) == mid + out + r3d_out
    # smooth "learned" filters (one colour blob each) against the same nets at initialisation
    smooth = create("r2plus1d_18", num_classes=5, width=0.25)
    with torch.no_grad():
        yy, xx = torch.meshgrid(torch.arange(7.0), torch.arange(7.0), indexing="ij")
        blob = torch.exp(-((yy - 3) ** 2 + (xx - 3) ** 2) / 6) * 0.2
        smooth.stem[0].weight.copy_(blob.expand_as(smooth.stem[0].weight[:, :, 0])[:, :, None])
    stats = tran2018.filter_statistics(smooth, r3d, r21d, r3d)
    row = stats.loc["R(2+1)D spatial 1x7x7"]
    assert row["neighbour correlation, trained"] > 0.5 > abs(row["neighbour correlation, at init"])
