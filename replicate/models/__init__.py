"""Models, built by name through the registry: ``create("r2plus1d_18", num_classes=..., width=...)``.

``video_resnet``: the tran2018 family (R2D, f-R2D, R3D, MCx, rMCx, R(2+1)D at depths 18 and 34) and Hara et al.'s
3D ResNet / ResNeXt (diba2017, diba2018); ``stc``: diba2018's STC block and STC-ResNet / STC-ResNeXt.
``mansimov``: the mansimov2015 image net, its 3D inflation and the flow nets.
``st_resnet``: the feichtenhofer2016 ResNet-50 streams and ST-ResNet / ST-ResNet*.
``densenet3d``: the diba2017 DenseNet3D-121 / -169, T3D (the Temporal Transition Layer), the 2D DenseNet-121 teacher
and ResNet3D (in ``video_resnet``); ``inception3d``: its Inception3D (the I3D layout).
``composite_lstm``: the Composite LSTM over frame features (mansimov2015's [14]; not a clip model,
so not in the registry).
``probes``: the two difficulty probes used to calibrate the synthetic data (not registered).
"""
from . import densenet3d, inception3d, mansimov, st_resnet, stc, video_resnet  # noqa: F401  (importing registers the builders)
from .registry import accepts, create, list_models, register

__all__ = ["accepts", "create", "list_models", "register"]
