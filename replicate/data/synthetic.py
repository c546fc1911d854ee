"""Synthetic action videos: the embedded stand-in for UCF101 / HMDB51 / Kinetics / ImageNet.

Nothing can be downloaded on the machines this suite is built on, so the default study runs on
generated data. That data is the instrument every later table measures with, so it is built
around one property: **appearance explains part of the labels, motion the rest**, the regime
UCF101 is in (a frame model is well above chance and clearly below a spatiotemporal one).

A class is an (actor appearance, motion program) pair:

* **Actors** are textured shapes (16 shapes x 8 colours x 4 textures) with a contrasting "head"
  dot that gives them an orientation, rendered as sprites and warped per frame.
* **Motion programs** come in **time-reversed twins**: ``advance``/``retreat`` (translate
  head-first / tail-first), ``orbit_forward``/``orbit_backward``, ``grow``/``shrink``,
  ``fall``/``rise`` (damped bounces / their reversal), ``sawtooth_up``/``sawtooth_down``
  (periodic, slow rise and fast drop / the reverse), ``approach``/``separate`` and
  ``push``/``pull`` (two objects), ``beat``/``unbeat`` (asymmetric periodic pulsing),
  ``appear``/``vanish``. A twin's frames have exactly the same distribution as its
  partner's (reversal permutes the frames), so any model that ignores frame order (a frame
  model, or frame features averaged over a clip) cannot tell twins apart, while a model that
  sees motion can. ``spin`` (random direction) and ``idle`` have no twin.
* Why "head-first vs tail-first" rather than "left vs right" and "clockwise vs
  counter-clockwise": the horizontal-flip augmentation used by every paper in the suite maps
  a left-moving video to a right-moving one and cw to ccw, i.e. onto its twin, which would
  corrupt labels. Moving head-first stays head-first under a flip, so every twin pair here is
  flip-safe while keeping the left/right and cw/ccw contrast (the head decides).
* **Nuisances**: speed, phase, start position, size, orientation, appearance jitter, camera
  shake, pixel noise, textured backgrounds and distractor objects that drift at random.

Everything is a pure function of a seed (``numpy.random.SeedSequence``), so the same seed
gives the same frames whatever the number of worker processes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

# --------------------------------------------------------------------------- vocabulary
#: 16 shapes: the still-image set (ImageNet stand-in) uses all of them; videos use the first 12,
#: so the image set has "extra categories" never seen in videos, as ImageNet has for UCF101.
SHAPES = (
    "circle", "square", "triangle", "diamond", "pentagon", "hexagon", "star", "cross",
    "ring", "crescent", "arrow", "ellipse",
    "octagon", "trapezoid", "lshape", "tshape",
)
VIDEO_SHAPES = SHAPES[:12]
#: OpenCV hue (0..180) per colour name
COLOURS = {
    "red": 0, "orange": 12, "yellow": 28, "green": 60,
    "cyan": 90, "blue": 112, "purple": 135, "magenta": 160,
}
TEXTURES = ("solid", "stripes", "checker", "dots")

#: forward program -> its time-reversed twin (the twin is rendered by reversing the frames)
TWINS = {
    "advance": "retreat",
    "orbit_forward": "orbit_backward",
    "grow": "shrink",
    "fall": "rise",
    "sawtooth_up": "sawtooth_down",
    "approach": "separate",
    "push": "pull",
    "beat": "unbeat",
    "appear": "vanish",
}
REVERSED = {v: k for k, v in TWINS.items()}
UNTWINNED = ("spin", "idle")
TWO_ACTOR_MOTIONS = ("approach", "separate", "push", "pull")
MOTIONS = tuple(TWINS) + tuple(REVERSED) + UNTWINNED


@dataclass(frozen=True)
class Actor:
    """A visual category: the frame-level half of a class."""

    shape: str
    colour: str
    texture: str

    @property
    def name(self) -> str:
        return f"{self.colour} {self.texture} {self.shape}"


@dataclass(frozen=True)
class ActionClass:
    """A label: an actor doing a motion program (two-actor programs add a partner)."""

    actor: Actor
    motion: str
    partner: Actor | None = None

    @property
    def twin_motion(self) -> str | None:
        return TWINS.get(self.motion) or REVERSED.get(self.motion)

    @property
    def words(self) -> list[str]:
        """Name parts, joined per dataset format (CamelCase for UCF101, snake_case for HMDB51...)."""
        return self.motion.split("_") + [self.actor.colour, self.actor.shape]


@dataclass(frozen=True)
class Nuisance:
    """How hard a dataset is: everything that varies within a class."""

    noise_std: float = 6.0  # per-pixel Gaussian noise, in 0..255 units
    shake_px: float = 0.6  # camera-shake random walk step (pixels)
    distractors: tuple[int, int] = (0, 1)  # inclusive range of distractor objects
    hue_jitter: int = 6  # OpenCV hue units
    size_range: tuple[float, float] = (0.85, 1.15)  # actor size multiplier
    speed_range: tuple[float, float] = (0.7, 1.3)  # how much of the program one video covers
    background_contrast: float = 40.0


@dataclass
class VideoSpec:
    """The geometry every dataset of a profile shares."""

    height: int = 64
    width: int = 86
    frames: tuple[int, int] = (48, 80)  # inclusive range of video lengths
    fps: int = 25
    actor_radius: float = 0.13  # fraction of the frame height at scale 1

    def __post_init__(self):
        self.frames = tuple(self.frames)


# --------------------------------------------------------------------------- sprites
_SPRITE = 64  # sprite canvas, drawn large then blurred and warped down (anti-aliasing)
_SR = 26.0  # sprite radius in sprite pixels


def _polygon(shape: str) -> list[np.ndarray]:
    """Outline(s) of a shape of radius ~1 centred at 0, facing +x (the head side)."""

    def regular(n, phase=0.0, r=1.0):
        a = phase + np.arange(n) * 2 * np.pi / n
        return np.stack([r * np.cos(a), r * np.sin(a)], 1)

    if shape == "circle":
        return [regular(48)]
    if shape == "ellipse":
        p = regular(48)
        return [p * [1.0, 0.6]]
    if shape == "square":
        return [regular(4, np.pi / 4) * 1.1]
    if shape == "diamond":
        return [regular(4) * [1.0, 0.7]]
    if shape == "triangle":
        return [regular(3, 0.0) * 1.1]
    if shape == "pentagon":
        return [regular(5)]
    if shape == "hexagon":
        return [regular(6)]
    if shape == "octagon":
        return [regular(8, np.pi / 8)]
    if shape == "star":
        outer, inner = regular(5, 0.0), regular(5, np.pi / 5, 0.45)
        return [np.stack([outer, inner], 1).reshape(-1, 2)]
    if shape == "cross":
        w = 0.35
        return [np.array([[w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1], [-w, w], [-1, w], [-1, -w], [-w, -w], [-w, -1]])]
    if shape == "arrow":
        return [np.array([[1, 0], [0.1, -0.8], [0.1, -0.35], [-1, -0.35], [-1, 0.35], [0.1, 0.35], [0.1, 0.8]])]
    if shape == "trapezoid":
        return [np.array([[0.9, -0.5], [0.9, 0.5], [-0.9, 1.0], [-0.9, -1.0]])]
    if shape == "lshape":
        return [np.array([[-0.9, -1], [-0.2, -1], [-0.2, 0.3], [0.9, 0.3], [0.9, 1], [-0.9, 1]])]
    if shape == "tshape":
        return [np.array([[-1, -1], [1, -1], [1, -0.4], [0.3, -0.4], [0.3, 1], [-0.3, 1], [-0.3, -0.4], [-1, -0.4]])]
    if shape in ("ring", "crescent"):
        return [regular(48)]  # holes are cut in _shape_mask
    raise KeyError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")


def _shape_mask(shape: str) -> np.ndarray:
    mask = np.zeros((_SPRITE, _SPRITE), np.uint8)
    c = _SPRITE / 2
    for poly in _polygon(shape):
        pts = np.round((poly * _SR + c) * 16).astype(np.int32)  # 4 fractional bits
        cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    if shape == "ring":
        cv2.circle(mask, (int(c), int(c)), int(_SR * 0.5), 0, -1, cv2.LINE_AA)
    if shape == "crescent":
        cv2.circle(mask, (int(c + _SR * 0.45), int(c)), int(_SR * 0.8), 0, -1, cv2.LINE_AA)
    return mask


def _texture(texture: str, rng: np.random.Generator) -> np.ndarray:
    """A 0..1 modulation map for the second colour of the sprite."""
    yy, xx = np.mgrid[0:_SPRITE, 0:_SPRITE].astype(np.float32)
    period = rng.uniform(9, 13)
    if texture == "solid":
        return np.zeros_like(xx)
    if texture == "stripes":
        a = rng.uniform(0, np.pi)
        return ((np.cos(a) * xx + np.sin(a) * yy) % period < period / 2).astype(np.float32)
    if texture == "checker":
        return (((xx // (period / 2)) + (yy // (period / 2))) % 2).astype(np.float32)
    if texture == "dots":
        d = np.hypot((xx % period) - period / 2, (yy % period) - period / 2)
        return (d < period * 0.28).astype(np.float32)
    raise KeyError(f"unknown texture {texture!r}; known: {', '.join(TEXTURES)}")


def make_sprite(actor: Actor, rng: np.random.Generator, hue_jitter: int = 0, head: bool = True) -> np.ndarray:
    """RGBA float32 sprite (64x64x4, alpha in 0..1) of an actor facing +x."""
    hue = (COLOURS[actor.colour] + rng.integers(-hue_jitter, hue_jitter + 1)) % 180
    sat, val = rng.uniform(170, 240), rng.uniform(190, 250)
    main = cv2.cvtColor(np.uint8([[[hue, sat, val]]]), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
    second = main * 0.45
    tex = _texture(actor.texture, rng)[..., None]
    rgb = main * (1 - tex) + second * tex
    alpha = _shape_mask(actor.shape).astype(np.float32) / 255
    if head:  # the head dot: gives every actor an orientation (see module docstring)
        c = _SPRITE / 2
        hx, hy = int(c + _SR * 0.6), int(c)
        cv2.circle(rgb, (hx, hy), int(_SR * 0.3), (255.0, 255.0, 255.0), -1, cv2.LINE_AA)
        cv2.circle(rgb, (hx, hy), int(_SR * 0.15), (10.0, 10.0, 10.0), -1, cv2.LINE_AA)
        head_mask = np.zeros_like(alpha)
        cv2.circle(head_mask, (hx, hy), int(_SR * 0.3), 1.0, -1, cv2.LINE_AA)
        alpha = np.maximum(alpha, head_mask)
    sprite = np.dstack([rgb, alpha]).astype(np.float32)
    return cv2.GaussianBlur(sprite, (0, 0), 1.2)  # pre-filter: the warp downsamples ~3x


# --------------------------------------------------------------------------- poses
@dataclass
class Track:
    """Per-frame pose of one object: centre (px), heading (deg, counter-clockwise), scale, opacity."""

    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray
    scale: np.ndarray
    alpha: np.ndarray

    def reversed(self) -> "Track":
        return Track(*(a[::-1].copy() for a in (self.x, self.y, self.angle, self.scale, self.alpha)))


def _const(t, v):
    return np.full(t, float(v))


def _forward_tracks(motion: str, t: int, vs: VideoSpec, rng: np.random.Generator, speed: float, r: float) -> list[Track]:
    """Tracks of the forward member of a twin pair (or an untwinned program), T frames."""
    h, w = vs.height, vs.width
    u = np.linspace(0.0, 1.0, t)
    ones = np.ones(t)
    margin = 1.2 * r

    def spot(rx=0.25, ry=0.25):
        return rng.uniform(w * (0.5 - rx), w * (0.5 + rx)), rng.uniform(h * (0.5 - ry), h * (0.5 + ry))

    if motion == "advance":  # head-first travel, roughly along the wide axis, either way
        heading = rng.choice([0.0, 180.0]) + rng.uniform(-25, 25)
        dist = min(w - 2 * margin, speed * 0.65 * w)
        dx, dy = math.cos(math.radians(heading)), -math.sin(math.radians(heading))
        x0 = np.clip(w / 2 - dx * dist / 2 + rng.uniform(-4, 4), margin, w - margin)
        y0 = np.clip(h / 2 - dy * dist / 2 + rng.uniform(-6, 6), margin, h - margin)
        x, y = x0 + dx * dist * u, y0 + dy * dist * u
        return [Track(np.clip(x, margin, w - margin), np.clip(y, margin, h - margin), _const(t, heading), ones, ones)]
    if motion == "orbit_forward":  # circles a point, head along the path
        cx, cy = spot(0.1, 0.05)
        rad = rng.uniform(0.22, 0.3) * h
        direction = rng.choice([-1.0, 1.0])
        phi0 = rng.uniform(0, 2 * np.pi)
        phi = phi0 + direction * speed * 1.3 * np.pi * u
        x, y = cx + rad * np.cos(phi), cy - rad * np.sin(phi)
        heading = np.degrees(phi) + direction * 90.0
        return [Track(x, y, heading, ones, ones)]
    if motion == "grow":
        x, y = spot(0.15, 0.1)
        s0, s1 = rng.uniform(0.35, 0.5), rng.uniform(1.3, 1.6)
        s = s0 + (s1 - s0) * np.clip(u * speed * 1.2, 0, 1)
        return [Track(_const(t, x), _const(t, y), _const(t, rng.uniform(0, 360)), s, ones)]
    if motion == "fall":  # dropped from the top, bounces with restitution e (damped)
        x0 = rng.uniform(0.3, 0.7) * w
        drift = rng.uniform(-0.15, 0.15) * w
        floor, top = h - margin, margin
        e = rng.uniform(0.55, 0.7)
        g = 2 * (floor - top) / (0.3 / speed) ** 2  # first impact after 30% of the video (at speed 1)
        y, v, ys = top, 0.0, []
        dt = 1.0 / t
        for _ in range(t):
            ys.append(y)
            v += g * dt
            y += v * dt
            if y > floor:
                y, v = floor - (y - floor) * e, -v * e
        return [Track(x0 + drift * u, np.array(ys), _const(t, rng.uniform(0, 360)), ones, ones)]
    if motion == "sawtooth_up":  # periodic: slow rise over 75% of a period, fast drop
        x = rng.uniform(0.3, 0.7) * w
        period = rng.uniform(10, 16) / speed  # frames
        phase = (np.arange(t) / period + rng.uniform(0, 1)) % 1.0
        rise = np.where(phase < 0.75, phase / 0.75, 1 - (phase - 0.75) / 0.25)
        amp = rng.uniform(0.45, 0.6) * h
        y = h / 2 + amp / 2 - amp * rise
        return [Track(_const(t, x), y, _const(t, rng.uniform(0, 360)), ones, ones)]
    if motion == "beat":  # periodic pulse: fast expansion, slow relaxation (a heartbeat)
        x, y = spot(0.15, 0.1)
        period = rng.uniform(12, 18) / speed
        phase = (np.arange(t) / period + rng.uniform(0, 1)) % 1.0
        pulse = np.where(phase < 0.2, phase / 0.2, 1 - (phase - 0.2) / 0.8)
        s = 0.7 + 0.6 * pulse
        return [Track(_const(t, x), _const(t, y), _const(t, rng.uniform(0, 360)), s, ones)]
    if motion == "appear":
        x, y = spot(0.2, 0.15)
        a = np.clip((u - rng.uniform(0.05, 0.3)) * 2.2 * speed, 0, 1)
        heading = rng.uniform(0, 360) + np.linspace(0, rng.uniform(-40, 40), t)
        return [Track(_const(t, x), _const(t, y), heading, ones, a)]
    if motion in ("approach", "push"):
        # Two actors on a horizontal-ish line, the first facing the second.
        # approach: both move in and stop in contact. push: the first moves in while the second
        # waits; at contact the first stops and the second is knocked away (reversed: "pull").
        cy = rng.uniform(0.35, 0.65) * h
        gap = 2.0 * r  # centre distance at contact
        contact = rng.uniform(0.45, 0.65)  # when they touch, as a fraction of the video
        k = np.clip(u / contact, 0, 1)  # progress before contact
        after = np.clip((u - contact) / (1 - contact), 0, 1)  # progress after contact
        lo, hi = margin, w - margin
        if motion == "approach":
            xc = w / 2 + rng.uniform(-4, 4)
            a_x = lo + (xc - gap / 2 - lo) * k
            b_x = hi - (hi - xc - gap / 2) * k
        else:
            xc = w * 0.45 + rng.uniform(-4, 4)
            a_x = lo + (xc - gap / 2 - lo) * k
            b_x = xc + gap / 2 + (hi - xc - gap / 2) * after
        if rng.random() < 0.5:  # mirror the scene: which side the first actor starts on carries no label
            a_x, b_x, head_a = w - a_x, w - b_x, 180.0
        else:
            head_a = 0.0
        return [
            Track(a_x, _const(t, cy), _const(t, head_a), ones, ones),
            Track(b_x, _const(t, cy), _const(t, 180.0 - head_a), ones, ones),
        ]
    if motion == "spin":  # rotation in place, either direction (untwinned: reversal is itself)
        x, y = spot(0.2, 0.15)
        heading = rng.uniform(0, 360) + rng.choice([-1, 1]) * speed * 540 * u
        return [Track(_const(t, x), _const(t, y), heading, ones, ones)]
    if motion == "idle":  # stands still, slight sway
        x, y = spot(0.25, 0.2)
        heading = rng.uniform(0, 360) + 8 * np.sin(2 * np.pi * u * rng.uniform(0.5, 1.5))
        return [Track(_const(t, x), _const(t, y), heading, ones, ones)]
    raise KeyError(f"unknown motion {motion!r}; known: {', '.join(MOTIONS)}")


def motion_tracks(motion: str, t: int, vs: VideoSpec, rng: np.random.Generator, speed: float, r: float) -> list[Track]:
    """Tracks for any program; a reversed twin is its partner's tracks played backwards."""
    if motion in REVERSED:
        return [tr.reversed() for tr in _forward_tracks(REVERSED[motion], t, vs, rng, speed, r)]
    return _forward_tracks(motion, t, vs, rng, speed, r)


def _distractor_track(t: int, vs: VideoSpec, rng: np.random.Generator) -> Track:
    """A slow, smooth random drift: present in every class, so it carries no label."""
    steps = rng.normal(0, 0.35, (t, 2)).cumsum(0)
    steps -= steps.mean(0)
    x = np.clip(rng.uniform(0.1, 0.9) * vs.width + steps[:, 0], 4, vs.width - 4)
    y = np.clip(rng.uniform(0.1, 0.9) * vs.height + steps[:, 1], 4, vs.height - 4)
    heading = rng.uniform(0, 360) + rng.normal(0, 1.5, t).cumsum()
    return Track(x, y, heading, np.full(t, rng.uniform(0.5, 0.8)), np.ones(t))


# --------------------------------------------------------------------------- rendering
def _background(vs: VideoSpec, rng: np.random.Generator, contrast: float) -> np.ndarray:
    base = rng.uniform(60, 170, 3)
    low = rng.normal(0, 1, (4, 5, 3)).astype(np.float32)
    low = cv2.resize(low, (vs.width + 16, vs.height + 16), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.normal(0, 1, (vs.height + 16, vs.width + 16, 3)).astype(np.float32), (0, 0), 1.0)
    return (base + contrast * low + 0.4 * contrast * fine).astype(np.float32)


def _paste(frame: np.ndarray, sprite: np.ndarray, x: float, y: float, angle: float, scale: float, alpha: float):
    if alpha <= 0.0 or scale <= 0.0:
        return
    h, w = frame.shape[:2]
    m = cv2.getRotationMatrix2D((_SPRITE / 2, _SPRITE / 2), angle, scale)
    m[:, 2] += (x - _SPRITE / 2, y - _SPRITE / 2)
    warped = cv2.warpAffine(sprite, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = warped[..., 3:4] * alpha
    frame *= 1 - a
    frame += warped[..., :3] * a


def render_video(cls: ActionClass, seed, vs: VideoSpec, nz: Nuisance, num_frames: int | None = None,
                 scene_seed=None) -> np.ndarray:
    """Render one video of ``cls``: uint8 (T, H, W, 3).

    ``seed`` (anything SeedSequence takes) drives the motion and noise. ``scene_seed``, when
    given, drives the look of the scene instead (actor colour variant, size, background,
    distractors), so videos sharing it share a scene: UCF101's *groups*.
    """
    rng = np.random.default_rng(seed)
    scene = rng if scene_seed is None else np.random.default_rng(scene_seed)
    t = int(num_frames or rng.integers(vs.frames[0], vs.frames[1] + 1))
    r_px = vs.actor_radius * vs.height * scene.uniform(*nz.size_range)
    speed = rng.uniform(*nz.speed_range)
    tracks = motion_tracks(cls.motion, t, vs, rng, speed, r_px)
    actors = [cls.actor] + ([cls.partner or cls.actor] if len(tracks) > 1 else [])
    sprites = [make_sprite(a, scene, nz.hue_jitter) for a in actors]
    n_dis = int(scene.integers(nz.distractors[0], nz.distractors[1] + 1))
    for _ in range(n_dis):
        other = Actor(scene.choice(VIDEO_SHAPES), scene.choice(list(COLOURS)), scene.choice(TEXTURES))
        sprites.insert(0, make_sprite(other, scene, nz.hue_jitter, head=False))
        tracks.insert(0, _distractor_track(t, vs, rng))  # drawn first: behind the actors
    bg = _background(vs, scene, nz.background_contrast)
    shake = rng.normal(0, nz.shake_px, (t, 2)).cumsum(0)
    shake -= shake.mean(0)
    shake = np.clip(shake, -7, 7)
    noise_rng = np.random.default_rng(rng.integers(2**63))
    out = np.empty((t, vs.height, vs.width, 3), np.uint8)
    sprite_scale = r_px / _SR
    for i in range(t):
        ox, oy = 8 + shake[i, 0], 8 + shake[i, 1]
        m = np.float32([[1, 0, -ox], [0, 1, -oy]])
        frame = cv2.warpAffine(bg, m, (vs.width, vs.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        for sprite, tr in zip(sprites, tracks):
            _paste(frame, sprite, tr.x[i] - ox + 8, tr.y[i] - oy + 8, tr.angle[i], tr.scale[i] * sprite_scale, tr.alpha[i])
        if nz.noise_std > 0:
            frame += noise_rng.normal(0, nz.noise_std, frame.shape).astype(np.float32)
        out[i] = np.clip(frame, 0, 255).astype(np.uint8)
    return out


def render_image(shape: str, seed, vs: VideoSpec, nz: Nuisance, size: int = 64) -> np.ndarray:
    """A still image (uint8 size x size x 3) of one ``shape`` actor with random colour/texture/pose."""
    rng = np.random.default_rng(seed)
    actor = Actor(shape, rng.choice(list(COLOURS)), rng.choice(TEXTURES))
    sq = VideoSpec(height=size, width=size, frames=(1, 1), actor_radius=vs.actor_radius * rng.uniform(0.9, 1.6))
    idle = ActionClass(actor, "idle")
    # an image is a one-frame "video": same renderer, same nuisances, so features transfer
    return render_video(idle, rng.integers(2**63), sq, nz, num_frames=1)[0]
