"""Image pretraining (replicate.pretrain) and the still-image dataset it trains on."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from replicate import config, pretrain, runs
from replicate.data.images import ImageDataset
from replicate.data.samples import DatasetError
from replicate.data.transforms import test_transform, train_transform
from replicate.errors import BadValueError, MissingInputError, UnknownNameError
from replicate.models import create


def _image_tree(root, classes=("circle", "square"), per_class=3, size=20):
    import cv2

    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            cv2.imwrite(str(root / c / f"{c}_{i}.png"), rng.integers(0, 255, (size, size + 4, 3), dtype=np.uint8))
    return root


def test_image_dataset_items_are_frames_with_replayable_randomness(tmp_path):
    root = _image_tree(tmp_path / "train")
    data = ImageDataset(root, train_transform(16, 18, flip=True), seed=3, cache=True)
    assert data.classes == ["circle", "square"] and data.labels == [0, 0, 0, 1, 1, 1] and len(data) == 6
    item = data[4]
    assert item["clip"].shape == (3, 16, 16) and item["label"] == 1 and item["video_index"] == 4
    assert torch.equal(data[4]["clip"], item["clip"])  # a function of (seed, epoch, index)
    data.set_epoch(1)
    assert not torch.equal(data[4]["clip"], item["clip"])
    val = ImageDataset(_image_tree(tmp_path / "val", classes=("square",)), test_transform(16, 18), classes=data.classes)
    assert val.labels == [1, 1, 1]  # numbered by the training classes, not its own


def test_image_dataset_names_what_is_wrong(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        ImageDataset(tmp_path / "absent", test_transform(16))
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(DatasetError, match="ImageFolder"):
        ImageDataset(tmp_path / "empty", test_transform(16))
    root = _image_tree(tmp_path / "t")
    (root / "circle" / "circle_0.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="circle_0.png"):
        ImageDataset(root, test_transform(16))[0]
    with pytest.raises(DatasetError, match="class folders the training set lacks: square"):
        ImageDataset(root, test_transform(16), classes=["circle"])


def test_pretraining_is_scaled_like_the_paper_that_loads_it():
    s = pretrain.pretrain_settings("mansimov_2d", "mini")
    run = runs.run_settings("mansimov2015", "init_nwi", "mini")
    assert (s["crop"], s["width"], s["batch_norm"]) == (run["crop"], run["width"], run["batch_norm"]) == (56, 0.25, True)
    assert s["resize"] == 64 and s["dataset"] == "images"
    paper = pretrain.pretrain_settings("mansimov_2d", "paper")
    assert (paper["crop"], paper["resize"], paper["width"], paper["epochs"]) == (224, 256, 1.0, 90)
    with pytest.raises(UnknownNameError, match="mansimov_2d"):
        pretrain.pretrain_settings("resnet_1000", "mini")


def test_a_weights_file_is_checked_against_the_network(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrain, "out_dir", lambda name, profile: tmp_path / "out" / name)
    s = {**pretrain.pretrain_settings("mansimov_2d", "paper"), "width": 0.125, "crop": 64}
    good = create("mansimov_2d", num_classes=1000, width=0.125, input_size=64).state_dict()
    # a file converted from elsewhere names the classifier once (the suite's fc is also classifier.7)
    torch.save({"state_dict": {k: v for k, v in good.items() if not k.startswith("fc.")}}, tmp_path / "good.pt")
    m = pretrain.use_weights_file("mansimov_2d", tmp_path / "good.pt", s)
    assert m["source"] == "file" and len(m["sha256"]) == 64 and m["top1"] is None
    loaded = torch.load(tmp_path / "out/mansimov_2d/final.pt", weights_only=True)
    assert torch.equal(loaded["features.conv1.weight"], good["features.conv1.weight"])
    torch.save(create("mansimov_2d", num_classes=10, width=0.125, input_size=64).state_dict(), tmp_path / "bad.pt")
    with pytest.raises(BadValueError, match="pretrained_weights.mansimov_2d"):
        pretrain.use_weights_file("mansimov_2d", tmp_path / "bad.pt", s)


def test_torchvision_s_imagenet_resnet50_file_fits_the_st_resnet_image_net(tmp_path, monkeypatch):
    torchvision = pytest.importorskip("torchvision")
    monkeypatch.setattr(pretrain, "out_dir", lambda name, profile: tmp_path / "out" / name)
    s = pretrain.pretrain_settings("resnet50", "paper")
    assert (s["crop"], s["width"], s["lr"], s["batch_size"]) == (224, 1.0, 0.1, 256)
    torch.save(torchvision.models.resnet50().state_dict(), tmp_path / "tv.pt")  # 4D convs, v1.5
    s = {**s, "model_kwargs": {"stride_in_1x1": False}}
    assert pretrain.use_weights_file("resnet50", tmp_path / "tv.pt", s)["source"] == "file"
    loaded = torch.load(tmp_path / "out/resnet50/final.pt", weights_only=True)
    assert loaded["conv1.weight"].shape == (64, 3, 1, 7, 7)
    assert pretrain.pretrain_settings("resnet50", "mini")["width"] == 0.25


def test_weights_file_setting_is_used_at_paper_only(tmp_path):
    params = {**config.load_params(), "pretrained_weights": {"mansimov_2d": str(tmp_path / "absent.pt")}}
    assert pretrain._weights_file("mansimov_2d", "mini", params) is None
    with pytest.raises(MissingInputError, match="absent.pt"):
        pretrain._weights_file("mansimov_2d", "paper", params)


def test_a_run_refuses_image_weights_of_another_architecture(tmp_path, monkeypatch):
    # weights pretrained with batch norm must not be loaded, convs only, into a net without it
    image_net = create("mansimov_2d", num_classes=16, width=0.125, input_size=56, batch_norm=True)
    monkeypatch.setattr("replicate.pretrain.load_pretrained", lambda name, profile: image_net.state_dict())
    s = {**runs.run_settings("mansimov2015", "init_nwi", "smoke"), "batch_norm": False}
    model = create("mansimov_3d", num_classes=4, width=0.125, input_size=56)
    with pytest.raises(BadValueError, match="does not fit"):
        runs._initialise(model, s, config.load_params())
    with_bn = create("mansimov_3d", num_classes=4, width=0.125, input_size=56, batch_norm=True)
    assert runs._initialise(with_bn, {**s, "batch_norm": True}, config.load_params()) == "image:mansimov_2d"
    other_crop = create("mansimov_3d", num_classes=4, width=0.125, input_size=96, batch_norm=True)  # fc6 of another size
    with pytest.raises(BadValueError, match="classifier.1.weight"):
        runs._initialise(other_crop, {**s, "batch_norm": True}, config.load_params())
    fresh = dict(with_bn.named_parameters())["classifier.4.weight"]  # fc7: new in fine-tuning, never loaded
    assert fresh.shape != image_net.classifier[4].weight.shape
    w2d = image_net.state_dict()["features.conv1.weight"]
    expected = torch.stack([5 / 3 * w2d, -1 / 3 * w2d, -1 / 3 * w2d], 2)  # NWI at T = 3
    torch.testing.assert_close(with_bn.state_dict()["features.conv1.weight"], expected)
