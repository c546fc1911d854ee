"""Difficulty probes: one small ConvNet, with and without temporal modelling.

The synthetic data must put a frame model well above chance and clearly below a
spatiotemporal model (the UCF101 regime). To measure that gap fairly, both probes are the
same network; ``temporal=False`` turns every 3x3x3 kernel into 1x3x3 and removes temporal
pooling, so the frame probe sees each frame separately and averages over time at the end
(frames averaged, no temporal modelling). Nothing else differs.
"""
from __future__ import annotations

import torch
from torch import nn


class ProbeNet(nn.Module):
    def __init__(self, num_classes: int, temporal: bool = True, width: int = 32, in_channels: int = 3):
        super().__init__()
        kt = 3 if temporal else 1
        chans = [in_channels, width, 2 * width, 4 * width, 4 * width]
        # spatial /2 at every stage; time /2 at stages 2 and 3 only for the temporal probe
        t_pool = [1, 2, 2, 1] if temporal else [1, 1, 1, 1]
        layers: list[nn.Module] = []
        for i in range(4):
            layers += [
                nn.Conv3d(chans[i], chans[i + 1], (kt, 3, 3), padding=(kt // 2, 1, 1), bias=False),
                nn.BatchNorm3d(chans[i + 1]),
                nn.ReLU(inplace=True),
            ]
            if i < 3:
                layers.append(nn.MaxPool3d((t_pool[i], 2, 2)))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(chans[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, C, T, H, W)
        return self.fc(self.dropout(self.pool(self.features(x)).flatten(1)))
