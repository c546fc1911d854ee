"""A hand-crafted stand-in for improved dense trajectories (IDT) + Fisher vectors, for feichtenhofer2016 Table 4.

The paper's "ST-ResNet* + IDT" fuses its network with IDT [Wang & Schmid 2013] encoded by Fisher vectors and
classified by a linear SVM. IDT's binaries and their camera-motion estimation are not reproducible offline, so this
module builds the same pipeline from our own pieces and is labelled a **stand-in** wherever it is shown:

1. **Trajectories**: points on a dense grid (every ``grid`` pixels), started every ``starts_every`` frames and
   tracked for ``length`` frames through the stored optical flow (median-filtered 3x3, as IDT filters it); a
   trajectory that hardly moves (path length under ``min_displacement`` pixels) is dropped, as IDT drops static
   ones. Ours differs from IDT in: no camera-motion compensation (the "improved" part; the stand-ins have a
   static camera); new points on the whole grid every ``starts_every`` frames (IDT: every frame, only where no
   tracked point is near); points clamped at the frame border (IDT ends such trajectories); hard orientation
   binning (IDT interpolates between bins).
2. **Descriptors** in the ``patch`` x ``patch`` x ``length`` volume along each trajectory, split into
   ``cells`` = 2 x 2 x 3 cells: HOG (image gradient orientation, 8 bins), HOF (flow orientation, 8 bins plus a
   bin for flow under 1 px), MBHx / MBHy (orientation of the gradients of the flow's x and y components, 8 bins
   each), every histogram weighted by magnitude, summed over the cell; 96 / 108 / 96 / 96 dimensions, each
   descriptor L1-normalised then square-rooted (RootSIFT, as IDT + Fisher vectors use them).
3. **Fisher vectors** per descriptor type: PCA to ``pca`` of the dimensions (half, as Wang & Schmid), a
   diagonal GMM of ``gmm_components`` components fitted on a sample of training descriptors, the gradients
   with respect to means and variances (Perronnin et al. 2010), signed square root and L2 normalisation, the
   four types concatenated.
4. **A linear SVM** per class (one vs rest, squared hinge, ``C = svm_c``), trained on the training videos'
   Fisher vectors; a test video's scores are its decision values.

Everything is numpy / torch on whole videos (the frames and flow a run reads), deterministic given the seed.
"""
from __future__ import annotations

import numpy as np
import torch

from .errors import BadValueError, cli

#: descriptor types, in the order their Fisher vectors are concatenated
DESCRIPTORS = ("hog", "hof", "mbhx", "mbhy")
ORIENTATION_BINS = 8
#: HOF's extra bin: flow slower than this (pixels per frame) counts as "no motion" (IDT's threshold)
HOF_STILL = 1.0


# --------------------------------------------------------------------------- per-frame maps


def orientation_maps(dx: np.ndarray, dy: np.ndarray, bins: int = ORIENTATION_BINS, still: float | None = None) -> np.ndarray:
    """Magnitude-weighted orientation histograms per pixel: ``(..., H, W)`` components -> ``(..., bins[+1], H, W)``,
    hard-binned over the full circle; with ``still``, vectors shorter than it go (weight 1) to an extra last bin."""
    magnitude = np.hypot(dx, dy).astype(np.float32)
    angle = np.mod(np.arctan2(dy, dx), 2 * np.pi)
    index = np.minimum((angle / (2 * np.pi) * bins).astype(np.int64), bins - 1)
    weight = magnitude
    if still is not None:
        slow = magnitude < still
        index, weight = np.where(slow, bins, index), np.where(slow, np.float32(1.0), magnitude)
    out = np.zeros(dx.shape[:-2] + (bins + (still is not None),) + dx.shape[-2:], dtype=np.float32)
    np.put_along_axis(out, index[..., None, :, :], weight[..., None, :, :], axis=-3)
    return out


def frame_maps(gray: np.ndarray, flow: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame histogram maps ``(T', C, H, W)`` of each descriptor type, for ``gray`` ``(T, H, W)`` frames and
    ``flow`` ``(T - 1, H, W, 2)`` in pixels (field t: frame t -> t + 1). Frames beyond the last field are dropped."""
    t = min(len(gray), len(flow))
    gy, gx = np.gradient(gray[:t].astype(np.float32), axis=(1, 2))
    u, v = flow[:t, ..., 0].astype(np.float32), flow[:t, ..., 1].astype(np.float32)
    uy, ux = np.gradient(u, axis=(1, 2))
    vy, vx = np.gradient(v, axis=(1, 2))
    return {"hog": orientation_maps(gx, gy), "hof": orientation_maps(u, v, still=HOF_STILL),
            "mbhx": orientation_maps(ux, uy), "mbhy": orientation_maps(vx, vy)}


def box_sums(maps: np.ndarray, width: int, height: int) -> np.ndarray:
    """Sums over the ``width`` x ``height`` window whose top-left corner is each pixel (zero outside the frame):
    ``(T, C, H, W)`` -> ``(T, C, H, W)`` (OpenCV's unnormalised box filter, every channel of a frame at once)."""
    import cv2

    out = np.empty_like(maps)
    for t in range(len(maps)):
        frame = np.ascontiguousarray(maps[t].transpose(1, 2, 0))  # (H, W, C): one call for every channel
        summed = cv2.boxFilter(frame, -1, (width, height), anchor=(0, 0), normalize=False,
                               borderType=cv2.BORDER_CONSTANT)
        out[t] = (summed if summed.ndim == 3 else summed[..., None]).transpose(2, 0, 1)
    return out


# --------------------------------------------------------------------------- trajectories


def _median3(flow: np.ndarray) -> np.ndarray:
    import cv2

    return np.stack([np.stack([cv2.medianBlur(np.ascontiguousarray(f[..., c]), 3) for c in range(2)], -1) for f in flow])


def track(flow: np.ndarray, t0: int, points: np.ndarray, length: int) -> np.ndarray:
    """Positions ``(length + 1, P, 2)`` (x, y) of ``points`` ``(P, 2)`` started at frame ``t0`` and moved by the
    flow at their (rounded, clamped) position, frame by frame."""
    h, w = flow.shape[1:3]
    pos = [points.astype(np.float32)]
    for t in range(t0, t0 + length):
        p = pos[-1]
        x = np.clip(np.rint(p[:, 0]).astype(np.int64), 0, w - 1)
        y = np.clip(np.rint(p[:, 1]).astype(np.int64), 0, h - 1)
        step = flow[t, y, x]
        pos.append(np.stack([np.clip(p[:, 0] + step[:, 0], 0, w - 1), np.clip(p[:, 1] + step[:, 1], 0, h - 1)], 1))
    return np.stack(pos)


def video_descriptors(frames: np.ndarray, flow: np.ndarray, *, grid: int, length: int, starts_every: int, patch: int,
                      cells: tuple[int, int, int] = (2, 2, 3), min_displacement: float = 1.0) -> dict[str, np.ndarray]:
    """Every trajectory's descriptors of one video: ``frames`` uint8 ``(T, H, W, 3)``, ``flow`` ``(T - 1, H, W, 2)``
    in pixels. Returns type -> ``(P, cells_x * cells_y * cells_t * bins)``, RootSIFT-normalised (P may be 0)."""
    nx, ny, nt = cells
    if length % nt or patch % nx or patch % ny:
        raise BadValueError(f"length {length} must split into {nt} time cells and patch {patch} into {nx} x {ny}")
    gray = frames.astype(np.float32).mean(-1) / 255.0
    flow = _median3(flow.astype(np.float32))
    maps = frame_maps(gray, flow)
    t_total = min(len(gray), len(flow))
    h, w = gray.shape[1:]
    cw, ch = patch // nx, patch // ny
    sums = {k: box_sums(m, cw, ch) for k, m in maps.items()}
    ys, xs = np.meshgrid(np.arange(grid // 2, h, grid), np.arange(grid // 2, w, grid), indexing="ij")
    start_points = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    out: dict[str, list[np.ndarray]] = {k: [] for k in DESCRIPTORS}
    for t0 in range(0, t_total - length + 1, starts_every):
        path = track(flow, t0, start_points, length)  # (length + 1, P, 2)
        moved = np.abs(np.diff(path, axis=0)).sum((0, 2)) >= min_displacement
        if not moved.any():
            continue
        path = path[:, moved]
        for kind in DESCRIPTORS:
            parts = []
            for ct in range(nt):
                frames_in_cell = range(ct * length // nt, (ct + 1) * length // nt)
                cell = 0.0
                for f in frames_in_cell:
                    px, py = path[f, :, 0], path[f, :, 1]
                    block = []
                    for iy in range(ny):
                        for ix in range(nx):
                            x = np.clip(np.rint(px - patch / 2 + ix * cw).astype(np.int64), 0, w - 1)
                            y = np.clip(np.rint(py - patch / 2 + iy * ch).astype(np.int64), 0, h - 1)
                            block.append(sums[kind][t0 + f, :, y, x])  # (P, bins): numpy puts the indexed axis first
                    cell = cell + np.concatenate(block, 1)
                parts.append(cell)
            out[kind].append(np.concatenate(parts, 1))
    result = {}
    for kind, chunks in out.items():
        d = nx * ny * nt * maps[kind].shape[1]
        x = np.concatenate(chunks) if chunks else np.zeros((0, d), np.float32)
        x = x / np.maximum(x.sum(1, keepdims=True), 1e-8)  # L1, then square root (RootSIFT)
        result[kind] = np.sqrt(x).astype(np.float32)
    return result


# --------------------------------------------------------------------------- encoding and classification


class PCA:
    """Principal components of ``x`` ``(N, D)``: the top ``dims`` directions, for centred projections."""

    def __init__(self, x: np.ndarray, dims: int):
        self.mean = x.mean(0)
        _, _, vt = np.linalg.svd(x - self.mean, full_matrices=False)
        self.components = vt[:dims]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) @ self.components.T


class DiagonalGMM:
    """A Gaussian mixture with diagonal covariances, fitted by EM (``iters`` steps) from ``k`` distinct samples."""

    def __init__(self, x: np.ndarray, k: int, iters: int = 30, seed: int = 0, floor: float = 1e-4):
        if len(x) < k:
            raise BadValueError(f"a GMM of {k} components needs at least {k} descriptors, got {len(x)}")
        rng = np.random.default_rng(seed)
        x64 = x.astype(np.float64)
        self.means = x64[rng.choice(len(x), k, replace=False)]
        self.vars = np.tile(x64.var(0) + floor, (k, 1))
        self.weights = np.full(k, 1.0 / k)
        for _ in range(iters):
            q = self.posteriors(x64)
            nk = q.sum(0) + 1e-10
            self.weights = nk / nk.sum()
            self.means = (q.T @ x64) / nk[:, None]
            self.vars = np.maximum((q.T @ x64 ** 2) / nk[:, None] - self.means ** 2, floor)

    def log_densities(self, x: np.ndarray) -> np.ndarray:
        """``(N, K)``: log of weight_k * N(x | mean_k, var_k), by matrix products (no ``(N, K, D)`` array: at
        IDT's sizes, 256 components x ~10^5 descriptors x ~50 dimensions, that would be tens of GB)."""
        precision = 1.0 / self.vars  # (K, D)
        mahalanobis = (x ** 2) @ precision.T - 2 * x @ (self.means * precision).T + (self.means ** 2 * precision).sum(1)
        return np.log(self.weights)[None] - 0.5 * (np.log(2 * np.pi * self.vars).sum(1)[None] + mahalanobis)

    def posteriors(self, x: np.ndarray) -> np.ndarray:
        logp = self.log_densities(x)
        logp -= logp.max(1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(1, keepdims=True)


def fisher_vector(x: np.ndarray, gmm: DiagonalGMM) -> np.ndarray:
    """The improved Fisher vector of descriptors ``x`` ``(N, D)``: gradients with respect to the GMM's means and
    variances ``(2 K D,)``, signed square root, L2-normalised (zeros for a video without descriptors)."""
    k, d = gmm.means.shape
    if len(x) == 0:
        return np.zeros(2 * k * d, np.float32)
    x = x.astype(np.float64)
    q = gmm.posteriors(x)  # (N, K)
    n, mass = len(x), q.sum(0)  # mass: (K,)
    sigma = np.sqrt(gmm.vars)
    first, second = q.T @ x, q.T @ x ** 2  # (K, D): sums of q x and q x^2, so no (N, K, D) array is formed
    g_mu = (first - mass[:, None] * gmm.means) / sigma / (n * np.sqrt(gmm.weights)[:, None])
    squared = (second - 2 * gmm.means * first + mass[:, None] * gmm.means ** 2) / gmm.vars  # sum q z^2
    g_var = (squared - mass[:, None]) / (n * np.sqrt(2 * gmm.weights)[:, None])
    fv = np.concatenate([g_mu.ravel(), g_var.ravel()])
    fv = np.sign(fv) * np.sqrt(np.abs(fv))
    return (fv / max(np.linalg.norm(fv), 1e-12)).astype(np.float32)


def linear_svm(x: np.ndarray, y: np.ndarray, num_classes: int, c: float = 100.0, iters: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest linear SVMs (squared hinge, ``0.5 |w|^2 + C sum max(0, 1 - y f(x))^2``, liblinear's default
    loss), solved by L-BFGS; returns weights ``(C, D)`` and biases ``(C,)``."""
    xt = torch.as_tensor(x, dtype=torch.float64)
    targets = torch.full((len(y), num_classes), -1.0, dtype=torch.float64)
    targets[torch.arange(len(y)), torch.as_tensor(y)] = 1.0
    w = torch.zeros(num_classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=iters, tolerance_grad=1e-9, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def objective():
        opt.zero_grad()
        margins = torch.clamp(1 - targets * (xt @ w.T + b), min=0)
        loss = 0.5 * (w ** 2).sum() + c * (margins ** 2).sum()
        loss.backward()
        return loss

    opt.step(objective)
    return w.detach().numpy(), b.detach().numpy()


# --------------------------------------------------------------------------- a run


def run_name(dataset: str, split: int) -> str:
    return f"idt_{dataset}_split{split}"


def idt_settings(paper: str, dataset: str, split: int, profile: str, params: dict | None = None) -> dict:
    """The stand-in's settings: the spec's ``idt`` section (native frames, the paper's IDT parameters) updated by
    ``params.yaml: profiles.<profile>.idt``."""
    from . import config, runs

    params = params or config.load_params()
    prof = config.profile_params(params, profile)
    s = {**runs.load_spec(paper)["idt"], **(prof.get("idt") or {})}
    return {**s, "paper": paper, "dataset": dataset, "split": split, "profile": profile, "seed": params.get("seed", 0),
            "run": run_name(dataset, split)}


def _stores(s: dict, params: dict, videos, mode: str):
    """Frame stores of the videos' RGB frames and stored flow at their native size."""
    from .runs import frame_stores

    return frame_stores(s, params, videos, mode, decode_size=None)


def _descriptors(s: dict, rgb, flow, progress: bool) -> tuple[list[dict[str, np.ndarray]], list[str], list[int]]:
    """Every video's descriptors (those in both stores), its id and label."""
    from tqdm import tqdm

    from .data.flow import FLOW_PIXELS

    rows = {sample.video_id: i for i, (sample, _) in enumerate(flow.videos)}
    out, ids, labels = [], [], []
    for v, (sample, n) in enumerate(tqdm(rgb.videos, desc=f"IDT stand-in {s['dataset']}", disable=not progress,
                                         unit="video")):
        if sample.video_id not in rows:
            continue
        frames = rgb.frames_at(v, np.arange(n))
        q = flow.frames_at(rows[sample.video_id], np.arange(max(1, n - 1)))
        pixels = (q.astype(np.float32) / 255.0 - FLOW_PIXELS[0]) / FLOW_PIXELS[1]
        out.append(video_descriptors(frames, pixels, grid=s["grid"], length=s["length"], starts_every=s["starts_every"],
                                     patch=s["patch"], cells=tuple(s["cells"]), min_displacement=s["min_displacement"]))
        ids.append(sample.video_id)
        labels.append(sample.label)
    return out, ids, labels


def run(paper: str, dataset: str, split: int, profile: str, params: dict | None = None, progress: bool = True) -> dict:
    """Fit the stand-in on a split's training videos, score its test videos, and store the result as seed 0 of
    run ``idt_<dataset>_split<k>`` (``metrics.json`` and ``video_scores.npz``, as a network run's)."""
    import json
    import time

    from . import config, runs
    from .train import save_json

    params = params or config.load_params()
    s = idt_settings(paper, dataset, split, profile, params)
    out = runs.seed_dir(paper, s["run"], profile, 0)
    splits = s.get("splits")
    if splits is not None and split not in splits:
        marker = {"paper": paper, "run": s["run"], "profile": profile,
                  "skipped": f"split {split} is not run at profile {profile} (params.yaml: idt.splits = {splits})"}
        out.parent.mkdir(parents=True, exist_ok=True)
        (out.parent / "metrics.json").write_text(json.dumps(marker, indent=1) + "\n")
        return marker
    t0 = time.time()
    config.ensure_data(profile, params)
    config.ensure_flow(dataset, profile, params)
    train_list = config.video_list(dataset, split, "train", profile, params)
    test_list = config.video_list(dataset, split, config.test_subset(dataset), profile, params)
    train_desc, _, train_labels = _descriptors(s, *_stores(s, params, train_list, "train"), progress)
    test_desc, test_ids, test_labels = _descriptors(s, *_stores(s, params, test_list, "test"), progress)
    rng = np.random.default_rng(s["seed"])
    encoded_train, encoded_test, counts = [], [], {}
    per_video = -(-s["gmm_sample"] // len(train_desc))  # the sample drawn evenly over the training videos
    for kind in DESCRIPTORS:
        counts[kind] = int(sum(len(d[kind]) for d in train_desc))
        sample = np.concatenate([d[kind][rng.choice(len(d[kind]), min(len(d[kind]), per_video), replace=False)]
                                 for d in train_desc])
        if len(sample) < s["gmm_components"]:
            raise BadValueError(f"{len(sample)} {kind} trajectories in the training videos of {dataset} split {split}, "
                                f"fewer than the GMM's {s['gmm_components']} components: shorten the trajectories "
                                f"(idt.length {s['length']}, videos need more frames than that) or sample a denser grid "
                                f"(idt.grid {s['grid']}) in params.yaml: profiles.{profile}.idt")
        pca = PCA(sample, max(1, round(sample.shape[1] * s["pca"])))
        gmm = DiagonalGMM(pca(sample), s["gmm_components"], iters=s["gmm_iters"], seed=s["seed"])
        encoded_train.append(np.stack([fisher_vector(pca(d[kind]), gmm) for d in train_desc]))
        encoded_test.append(np.stack([fisher_vector(pca(d[kind]), gmm) for d in test_desc]))
    x_train, x_test = np.concatenate(encoded_train, 1), np.concatenate(encoded_test, 1)
    w, b = linear_svm(x_train, np.asarray(train_labels), train_list.num_classes, c=s["svm_c"])
    scores = x_test @ w.T + b
    correct = (scores.argmax(1) == np.asarray(test_labels)).astype(int)
    top5 = np.argsort(-scores, 1)[:, :5]
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "video_scores.npz", scores=scores.astype(np.float32), labels=np.asarray(test_labels),
             video_ids=np.asarray(test_ids))
    metrics = {"paper": paper, "run": s["run"], "profile": profile, "seed_index": 0, "settings": s,
               "video@1": float(correct.mean()), "video@5": float((top5 == np.asarray(test_labels)[:, None]).any(1).mean()),
               "train_acc": float(((x_train @ w.T + b).argmax(1) == np.asarray(train_labels)).mean()),
               "num_test_videos": len(test_ids), "test_video_ids": test_ids, "video_correct": correct.tolist(),
               "trajectories": counts, "fisher_dims": int(x_train.shape[1]), "train_seconds": time.time() - t0}
    save_json(metrics, out / "metrics.json")
    return metrics


@cli
def main(argv=None) -> int:
    import argparse

    from . import config

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paper")
    ap.add_argument("dataset")
    ap.add_argument("split", type=int)
    ap.add_argument("--profile", default=None)
    args = ap.parse_args(argv)
    profile = args.profile or config.load_params()["profile"]
    m = run(args.paper, args.dataset, args.split, profile)
    if "skipped" in m:
        print(f"{m['run']} ({profile}): not run: {m['skipped']}")
    else:
        print(f"{m['run']} ({profile}, IDT stand-in): video@1 {100 * m['video@1']:.1f}, train {100 * m['train_acc']:.1f}, "
              f"{m['trajectories']['hog']} training trajectories ({m['train_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
