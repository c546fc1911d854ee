"""Data: synthetic stand-ins, real-dataset adapters, clip sampling and transforms, optical flow.

Modules: ``synthetic`` (the video generator), ``standins`` (the embedded datasets by role),
``adapters`` (UCF101 / HMDB51 / Kinetics / generic lists), ``video`` (mp4 I/O),
``clips`` + ``transforms`` (the clip pipeline), ``flow`` (optical flow).
"""
