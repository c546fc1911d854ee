"""Write the notebooks' source cells (run once per change; the .ipynb files are what is committed).

Keeping the cell text here makes notebook diffs reviewable; `make notebooks` rewrites them and
executes them at the smoke profile so that nbval has reference outputs to compare against.
"""
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parent.parent
# cells starting with this comment get nbval's "nbval-ignore-output" tag: run, not compared
IGNORE = "# output depends on training: nbval runs this cell but does not compare its output\n"


def notebook(cells: list[tuple[str, str]], path: Path) -> None:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, src in cells:
        if kind == "md":
            nb.cells.append(nbf.v4.new_markdown_cell(src.strip()))
        elif kind == "params":
            c = nbf.v4.new_code_cell(src.strip())
            c.metadata["tags"] = ["parameters"]
            nb.cells.append(c)
        else:
            c = nbf.v4.new_code_cell(src.strip())
            if src.startswith(IGNORE):
                c.metadata["tags"] = ["nbval-ignore-output"]
            nb.cells.append(c)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbf.write(nb, path)


PARAMS = '''
profile = "smoke"  # smoke (default: seconds, what CI runs) | mini (the study) | paper
'''

TABLE1 = [
    ("md", """
# tran2018 Table 1: R3D architectures, output size of every layer group

Tran et al. 2018, *A Closer Look at Spatiotemporal Convolutions for Action Recognition*, Table 1.
We build R3D-18 and R3D-34 with `replicate.models.create` and measure each layer group's output with forward
hooks on an 8x112x112 clip. Output sizes do not depend on the channel width, so a width-0.25 model is measured
(fast); the parameter counts of the full-width models are in Table 2's notebook. Nothing here depends on training.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import tran2018
table = tran2018.table1()
table
'''),
    ("code", '''
tran2018.write(table, "table1", profile)
print("all sizes equal the paper's:", bool(table["match"].all()))
'''),
]

TABLE2 = [
    ("md", """
# tran2018 Table 2: twelve forms of spatiotemporal convolution in one ResNet-18

Each row is the same ResNet-18 with a different convolution type (R2D, f-R2D, R3D, MCx, rMCx, R(2+1)D), trained
from scratch on the Kinetics role (at `mini`: the synthetic Kinetics stand-in, scaled as `params.yaml` says) and
tested with clip@1 and video@1 (10 uniform clips averaged). Parameter counts are at 400 classes and full width,
as in the paper. At our scale absolute accuracies cannot be compared with the paper's; its *claims* (orderings,
gaps) are tested: **reproduced** (the 95% interval excludes 0 on the paper's side), **inconclusive** (it covers 0:
not resolvable at this scale) or **contradicted** (it excludes 0 on the other side).

**What the intervals cover.** Every run is trained with several seeds (`params.yaml`: `seeds`; the table shows
the mean, the seed standard deviation and the final *training* accuracy, which says how far from convergence a
net is). A claim's interval covers both sources of noise: the spread between training runs (seeds) and the
sampling of test videos (matched by video id across rows), on the metric the paper's sentence is about: the
gaps section 4.2 quotes are clip accuracy, so these claims are tested on each video's share of correctly
classified clips. "R(2+1)D best" is reproduced only if it beats every other row; it is contradicted only if some
row beats it at a level corrected for the 11 comparisons. `tests/test_verdict_calibration.py` simulates equal
models with seed spread and checks that each claim kind's false verdicts stay within the stated 5%.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import tran2018
params = tran2018.table2_params()
params
'''),
    ("code", IGNORE + '''
runs = tran2018.table2_runs(profile)
tran2018.settings_table(runs)  # what was trained at this profile, beside the paper's setting
'''),
    ("code", IGNORE + '''
table = tran2018.table2(runs)
table
'''),
    ("code", IGNORE + '''
claims = tran2018.table2_claims(runs)
tran2018.write(table, "table2", profile, claims=claims)
from IPython.display import Markdown
Markdown(tran2018.verdicts_markdown(claims))
'''),
]

FIGURE3 = [
    ("md", """
# tran2018 Figure 3: accuracy vs computational cost

FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` on one 8x112x112 clip at full width (the
counter counts a multiply-add as 2 FLOPs; the paper's GFLOPs are most likely multiply-adds, so we plot
multiply-adds). The paper prints no FLOPs numbers, only the plot and statements about it; those statements are
checked below. Our accuracy axis is the profile's video@1 (Table 2's runs), the paper's is its Table 2 video@1.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import tran2018
costs = tran2018.figure3_costs()
costs
'''),
    ("code", IGNORE + '''
runs = tran2018.table2_runs(profile)
print(tran2018.regime_text(runs["R3D"]))  # Table 2's runs: their settings table is in Table 2's notebook
fig = tran2018.figure3(costs, runs)
tran2018.write_figure(fig, "figure3", profile)
'''),
    ("code", '''
tran2018.figure3_cost_claims(costs)
'''),
]

FIGURE4 = [
    ("md", """
# tran2018 Figure 4: training and test error of R3D vs R(2+1)D, 18 and 34 layers

The paper's point: R(2+1)D has lower *training* error than R3D (easier optimisation), more so at 34 layers.
Curves are clip errors per epoch, averaged over seeds (train: the training clips seen in the epoch; test: one
centre clip per test video). The verdicts compare final-epoch errors with 95% intervals: test error (video@1, 10
clips) over seeds and test videos matched by id; train error, where each seed saw its own random clips, over
seeds (a depth trained with one seed at this profile has no measured spread: its train-error claim is not run).
"""),
    ("params", PARAMS),
    ("code", IGNORE + '''
from replicate.papers import tran2018
runs = tran2018.figure4_runs(profile)
for m in runs.values():
    print(tran2018.regime_text(m))
fig = tran2018.figure4(runs)
tran2018.write_figure(fig, "figure4", profile)
'''),
    ("code", IGNORE + '''
summary = tran2018.figure4_summary(runs)
tran2018.write(summary, "figure4", profile)
summary
'''),
]

FIGURE5 = [
    ("md", """
# tran2018 Figure 5: accuracy vs clip length (R(2+1)D-18), and the two experiments of section 4.3

One R(2+1)D-18 is trained per clip length (the paper's 8, 16, 24, 32, 40, 48 frames, scaled by the profile:
at `mini` x0.5 in time and width 0.125, see `params.yaml`), all with the same parameters, and tested with
clip@1 and video@1 (10 uniform clips averaged). Then the paper's two follow-ups: the 8-frame model tested on
32-frame clips, and a 32-frame model fine-tuned from the 8-frame one (schedule assumed, see the spec). The paper
prints the curve only as a plot; its claims are in words, and each is checked below with a 95% interval over
seeds and test videos, on the metric the sentence is about (clip accuracy for "clip accuracy increases"); the
"peaks inside" claim picks its peak from the data, so its test is corrected for that choice.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import tran2018
print(f"FLOPs of a 32-frame clip over an 8-frame one (R(2+1)D-18): {tran2018.figure5_flops_ratio():.2f}x (paper: 7.3x)")
'''),
    ("code", IGNORE + '''
length_runs = tran2018.figure5_runs(profile)
for m in length_runs.values():
    print(tran2018.regime_text(m))
table = tran2018.figure5_table(length_runs)
tran2018.write(table, "figure5", profile)
table
'''),
    ("code", IGNORE + '''
tran2018.write_figure(tran2018.figure5(table), "figure5", profile)
'''),
    ("code", IGNORE + '''
longer = tran2018.figure5_longer_test(profile)
claims = tran2018.figure5_claims(length_runs, longer, profile)
tran2018.write(claims, "figure5_claims", profile)
claims
'''),
]

FIGURE6 = [
    ("md", """
# tran2018 Figure 6 (appendix): conv1 filters of R(2+1)D, and of R3D for contrast

R(2+1)D's conv1 is a 1x7x7 spatial convolution (45 filters at full width) followed by a 3x1x1 temporal one
(64 filters, each over the 45 spatial channels): we show the spatial filters as upscaled RGB images and each
temporal filter as a 45x3 matrix (input channel x time), weights scaled from [-0.3, 0.3] to [-1, 1] as in the
paper. R3D's 3x7x7 filters are shown beside them, time steps left to right. The models are the 34-layer runs of
Figure 4 (trained from scratch on the Kinetics role; the paper shows its Sports-1M model). At `mini` the width
is scaled, so there are fewer filters than the paper's 45 and 64. What to look for, as the paper says: spatial
filters tuned to colour and oriented edges, temporal filters that differ from each other (they are not all
the same smoothing across time).
"""),
    ("params", PARAMS),
    ("code", IGNORE + '''
from replicate import runs
from replicate.papers import tran2018
for name in ("r2plus1d_34", "r3d_34"):
    print(tran2018.regime_text(runs.ensure_run("tran2018", name, profile)))
r2plus1d = runs.load_model("tran2018", "r2plus1d_34", profile)
r3d = runs.load_model("tran2018", "r3d_34", profile)
fig = tran2018.figure6(r2plus1d, r3d)
tran2018.write_figure(fig, "figure6", profile)
'''),
    ("code", IGNORE + '''
stats = tran2018.filter_statistics(r2plus1d, r3d, runs.build_model("tran2018", "r2plus1d_34", profile),
                                   runs.build_model("tran2018", "r3d_34", profile))
tran2018.write(stats, "figure6", profile)
stats
'''),
]

STREAMS_INTRO = """
**How the rows are made.** R(2+1)D-34 is trained from scratch on RGB clips and, separately, on the stored
Farneback optical flow (2 channels per frame, `dvc repro flow@<role>`); the two-stream row averages the two
streams' video scores (`replicate.evaluate.fuse_streams`). At the synthetic profiles one stand-in (the Kinetics
role) plays both Sports-1M and Kinetics (`config.STANDIN_FOR`), so rows that become the same run say so in their
note, and runs that would fine-tune a model on its own training videos are not trained. Claims are tested as in
Table 2 (95% intervals over seeds and test videos matched by id); a claim whose rows this profile does not
train is **not run at this profile**, with the reason. A row trained with one seed at this profile (at `mini`
the 34-layer runs and the fine-tunes: see `params.yaml`) has no measured spread between runs: its claims'
intervals cover test videos only, and their verdict text says so.

**Why flow can beat RGB here.** The stand-ins' classes are built so that motion explains part of the labels:
every motion has a time-reversed twin with the same actor, which no single frame can tell apart. Optical flow
hands the network that motion directly, while the RGB stream must learn it from a few hundred videos. On
Kinetics much of the label is visible in single frames (the paper's frame-level R2D is within 4 points of R3D,
Table 2), and there RGB comes out ahead. An RGB-vs-flow verdict at `mini` is about this data, not a test of the
paper's datasets.
"""

def stream_table_cells(name: str, intro: str) -> list[tuple[str, str]]:
    """Tables 3 and 4: settings, paper vs ours per row, verdicts (the same cells, another table)."""
    return [
        ("md", intro + STREAMS_INTRO),
        ("params", PARAMS),
        ("code", IGNORE + '''
from replicate.papers import tran2018
tran2018.transfer_settings_table(profile)  # what was trained at this profile, beside the paper's setting
'''),
        ("code", IGNORE + f'''
table, results = tran2018.stream_table("{name}", profile)
table
'''),
        ("code", IGNORE + f'''
claims = tran2018.stream_claims("{name}", results)
tran2018.write(table, "{name}", profile, claims=claims)
from IPython.display import Markdown
Markdown(tran2018.verdicts_markdown(claims))
'''),
    ]


TABLE3 = stream_table_cells("table3", """
# tran2018 Table 3: R(2+1)D-34 on Sports-1M (RGB, flow, two-stream; 8 and 32 frames)

The paper trains R(2+1)D-34 and an R3D-34 baseline from scratch on Sports-1M and reports clip@1, video@1 and
video@5 (100 clips per video at test). Rows quoted from other work (DeepVideo, C3D, P3D ...) are shown as the paper
prints them and marked *reported only (not trained)*. At `mini` the 32-frame rows are not trained (their cost is in
`params.yaml`); the clip-length effect is tested in Figure 5.
""")

TABLE4 = stream_table_cells("table4", """
# tran2018 Table 4: R(2+1)D-34 on Kinetics, from scratch and pretrained on Sports-1M

top1 / top5 are video@1 / video@5 (10 clips per video). The I3D rows are quoted from other work (*reported only*).
The Sports-1M-pretrained rows fine-tune the Table 3 models on Kinetics (lr 0.001, / 10 every 4 epochs, 15 epochs
in the paper; fewer at `mini`, see `params.yaml`).
""")

TABLE5 = [
    ("md", """
# tran2018 Table 5: fine-tuning on UCF101 and HMDB51 (mean over the 3 splits)

The pretrained R(2+1)D-34 streams (Kinetics, and Sports-1M: Tables 3-4) are fine-tuned on each target, and the
video@1 of each split's test set is averaged over the splits the profile runs (`params.yaml`: `tran2018.splits`;
`mini` runs split 1 only, and says so in the note). The fine-tuning schedule for UCF101 / HMDB51 is not printed;
we assume the paper's Kinetics fine-tuning recipe (lr 0.001, / 10 every 4 epochs, 15 epochs), shortened at `mini`.

`pretrained = True` adds rows fine-tuned from **torchvision's public Kinetics-400 weights** (R3D-18, MC3-18,
R(2+1)D-18, full width; the compatibility option for R(2+1)D-18). Nothing is downloaded: when the files are not in
the torch hub cache the error says which file to put where.
""" + STREAMS_INTRO),
    ("params", PARAMS + 'pretrained = False  # True: add rows from torchvision\'s Kinetics-400 weights (must be in the hub cache)\n'),
    ("code", IGNORE + '''
from replicate.papers import tran2018
tran2018.transfer_settings_table(profile)  # what was trained at this profile, beside the paper's setting
'''),
    ("code", IGNORE + '''
table, results = tran2018.table5(profile, pretrained=pretrained)
table
'''),
    ("code", IGNORE + '''
tran2018.write_figure(tran2018.table5_figure(table, profile), "table5", profile)
'''),
    ("code", IGNORE + '''
claims = tran2018.table5_claims(results)
tran2018.write(table, "table5", profile, claims=claims)
from IPython.display import Markdown
Markdown(tran2018.verdicts_markdown(claims))
'''),
]


# ----------------------------------------------------------------------------- mansimov2015
M_FIGURE1 = [
    ("md", """
# mansimov2015 Figure 1: how each initialisation spreads a 2D filter over time

Mansimov, Srivastava, Salakhutdinov 2015, *Initialization Strategies of Spatio-Temporal Convolutional Neural
Networks*, section 3. A 3D filter of temporal size T starts as `W3D_t = alpha_t x W2D` with `sum_t alpha_t = 1`:
averaging (IA), scaling (IS, section 4.2's best values), zero weights but one slice (ZWI) and negative weights
(NWI). The alphas come from `replicate.inflate.alphas`, the same function every run and later paper uses. Below
them: what each init computes at conv1 on a random clip, and that a static clip (one frame repeated) through any
inflated net gives exactly the 2D net's logits (float64), then the parameter count of every network of the paper
at full size against the inventory's arithmetic. Nothing here depends on training.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import mansimov2015
alphas = mansimov2015.figure1_alphas()
mansimov2015.write(alphas, "figure1", profile)
print("every alpha equals the paper's:", bool(alphas["match"].all()))
alphas
'''),
    ("code", '''
mansimov2015.write_figure(mansimov2015.figure1(alphas), "figure1", profile)
'''),
    ("code", '''
identities = mansimov2015.conv1_identities()
mansimov2015.write(identities, "identities", profile)
identities[["holds (< 1e-9)"]]
'''),
    ("code", '''
parameters = mansimov2015.parameter_table()
mansimov2015.write(parameters, "parameters", profile)
parameters
'''),
]

M_TABLE1 = [
    ("md", """
# mansimov2015 Table 1: the 2D net fine-tuned on frames vs the 3D net under each initialisation

Every row starts from the same image-pretrained network (`replicate.pretrain`, stage `pretrain_images@mansimov_2d`:
ImageNet in the paper, the 16-class image stand-in at `mini`). The Spatial ConvNet is fine-tuned on single frames
of UCF101 split 1 and tested on the average of evenly spaced frames; the 3D net (conv1 3x7x7, pool1 2x3x3, conv2
2x5x5 over 6-frame clips) has its two 3D convs inflated from the 2D ones by IA / IS / ZWI / NWI. As section 3.5
says, every conv is frozen for the first iterations (500 of the paper's 20K, scaled), so the new fc layers settle
first. At `mini` the UCF101 stand-in has 5 pairs of classes that differ only by the direction of time (a motion
and its reversal, same actor): a frame model cannot tell a pair apart, so the twin-class column and claim measure
exactly the "spatial plateau" the paper describes.

Claims are tested on per-video correctness over the seeds (`params.yaml: seeds`): **reproduced** (the 95% interval
excludes 0 on the paper's side), **inconclusive** (it covers 0) or **contradicted** (it excludes 0 on the other
side). The paper's gaps are 0.2 to 2.1 points on 3,783 test videos; at our scale only large effects can resolve.
"""),
    ("params", PARAMS),
    ("code", IGNORE + '''
from replicate.papers import mansimov2015
pretraining = mansimov2015.pretraining_summary(profile)
mansimov2015.write(pretraining, "pretraining", profile)
pretraining  # the image net every row starts from
'''),
    ("code", IGNORE + '''
runs = mansimov2015.table1_runs(profile)
mansimov2015.settings_table(runs)  # what was trained at this profile, beside the paper's setting
'''),
    ("code", IGNORE + '''
table = mansimov2015.table1(runs, profile)
table
'''),
    ("code", IGNORE + '''
claims = mansimov2015.table1_claims(runs, profile)
mansimov2015.write(table, "table1", profile, claims=claims)
from IPython.display import Markdown
Markdown(mansimov2015.verdicts_markdown(claims))
'''),
]

M_FIGURE2 = [
    ("md", """
# mansimov2015 Figure 2: conv1 filters after fine-tuning, per initialisation

The paper shows conv1's three temporal slices W1, W2, W3 after fine-tuning and says: IA / IS slices still look
alike, NWI's later slices differ from W1, and ZWI's zero slices became edge and colour-blob detectors. We draw the
first filters of each init's 3D net (seed index 0), each filter's three slices side by side on one colour scale
(its largest |weight| at full intensity), and measure what the caption describes: the cosine between each later
slice and W1 (at initialisation: 1 for IA / IS, -1 for NWI, undefined for ZWI's zero slices) and how far each slice
moved from its initial value, relative to the pretrained 2D filter's norm (mean over filters, then over seeds).
"""),
    ("params", PARAMS),
    ("code", IGNORE + '''
from replicate.papers import mansimov2015
numbers = mansimov2015.figure2_numbers(profile)
mansimov2015.write(numbers, "figure2", profile)
numbers.round(3)
'''),
    ("code", IGNORE + '''
mansimov2015.write_figure(mansimov2015.figure2(profile), "figure2", profile)
'''),
]

M_TABLE2 = [
    ("md", """
# mansimov2015 Table 2: NWI + Composite LSTM on RGB, beside other networks

The paper fuses its best 3D net (NWI, Table 1) with the Composite LSTM of Srivastava et al. [14]: the equal average
of the two softmax vectors. We train the LSTM stream as [14]'s public code does (`replicate.composite`): fc6
features of every frame from the image-pretrained net (not fine-tuned), an encoder LSTM pretrained without labels
on the unlabelled role to reconstruct its input (reversed) and predict the frames that follow, then a classifier
LSTM started from that encoder, with a softmax at every step, on UCF101 split 1; a video's score is the mean over
its 16-frame windows of the mean per-step softmax. The NWI row is Table 1's run; seed k of each stream is fused with
seed k of the other. Rows the paper quotes from other work are marked *reported only* and never trained.

Verdicts as in Table 1: the 95% interval of a gap over seeds and test videos (**reproduced** / **inconclusive** /
**contradicted**).
"""),
    ("params", PARAMS),
    ("code", IGNORE + '''
from replicate.papers import mansimov2015
runs = mansimov2015.table_runs("table2", profile)
lstm = runs["Composite LSTM [14]"]
mansimov2015.lstm_settings_table(lstm)  # what the LSTM stream was trained with, beside the code's settings
'''),
    ("code", IGNORE + '''
mansimov2015.write_figure(mansimov2015.lstm_curves(lstm), "table2_lstm_curves", profile)
'''),
    ("code", IGNORE + '''
table = mansimov2015.results_table("table2", runs)
table
'''),
    ("code", IGNORE + '''
claims = mansimov2015.table_claims("table2", runs)
mansimov2015.write(table, "table2", profile, claims=claims)
from IPython.display import Markdown
Markdown(mansimov2015.verdicts_markdown(claims))
'''),
]

M_TABLE3 = [
    ("md", """
# mansimov2015 Table 3: the two-stream Spatio-Temporal ConvNet (RGB + optical flow)

Section 4.3 trains three flow nets from scratch on UCF101 split 1's optical flow, "similar to [12]": one flow
field (2 channels), a stack of 10 (20 channels, early fusion) and slow fusion over 10 fields (conv1 4/2, conv2 2/2,
conv3 2/2 in time, as Karpathy et al.), each on displacement fields minus their mean vector. Its two-stream result
averages the flow net's softmax with the RGB NWI + Composite LSTM's: we weight flow 1/2 and NWI, LSTM 1/4 each
(flow averaged with the fused RGB vector, the inventory's reading) and show equal thirds as a sensitivity check.
The paper's last claim is an equality ("no additional performance improvement": 85.3% both); it is tested as
equal within a stated margin (**reproduced** when the interval lies inside it). Quoted rows are *reported only*.
"""),
    ("params", PARAMS),
    ("code", IGNORE + '''
from replicate.papers import mansimov2015
runs = mansimov2015.table_runs("table3", profile)
flows = {name: m for name, m in runs.items() if name.startswith("Flow")}
mansimov2015.settings_table(flows)  # what each flow net was trained with at this profile, beside the paper's setting
'''),
    ("code", IGNORE + '''
table = mansimov2015.results_table("table3", runs)
table
'''),
    ("code", IGNORE + '''
mansimov2015.write_figure(mansimov2015.bars(table), "table3", profile)
'''),
    ("code", IGNORE + '''
claims = mansimov2015.table_claims("table3", runs)
mansimov2015.write(table, "table3", profile, claims=claims)
from IPython.display import Markdown
Markdown(mansimov2015.verdicts_markdown(claims))
'''),
]

# ----------------------------------------------------------------------------- feichtenhofer2016
F_INTRO = """Feichtenhofer, Pinz, Wildes 2016, *Spatiotemporal Residual Networks for Video Action Recognition*. The
networks are `replicate.models.st_resnet` (registry: `resnet50`, `st_resnet50_appearance`, `st_resnet50_motion`,
`st_resnet50`, `st_resnet50_star`); the code facts the text leaves open are from the authors' MatConvNet code
(the inventory `../shared/papers/notes/feichtenhofer2016.md`). Nothing here depends on training."""

F_TABLE1 = [
    ("md", f"""
# feichtenhofer2016 Table 1: the ST-ResNet* architecture, output sizes and receptive fields

{F_INTRO}

Output sizes are measured with forward hooks on the full-size ST-ResNet* (11 chunks of 224x224, on PyTorch's
`meta` device: shapes without arithmetic). Spatial receptive fields come from the built network's kernel sizes
and strides: the paper's numbers need MSRA's ResNet-50 ("v1", stride 2 in the first 1x1 conv of conv3_1, conv4_1,
conv5_1); torchvision's ResNet-50 ("v1.5", stride in the 3x3), whose ImageNet weights are the ones a `paper` user
can load, gives the column beside it. Temporal receptive fields (in chunks, each `tau` frames apart) are found by
changing one input chunk at a time and watching the centre unit of every layer group. The paper's pool5 entry,
47 tau, cannot be derived: a max pool of window 5 (stride 2) on 17-chunk units sees 17 + 4 = 21 chunks.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import feichtenhofer2016
table = feichtenhofer2016.table1()
feichtenhofer2016.write(table, "table1", profile)
print("rows equal to the paper's:", int(table["match"].sum()), "of", len(table), "(pool5's temporal field: 21 chunks, not 47)")
table
'''),
    ("md", """
What the paper's sentences claim in frames, at `tau = 15`: a unit spanning `n` chunks sees `(n - 1) tau + 1` RGB
frames (`(n - 1) tau + L + 1` for flow: a chunk is L = 10 flow fields, which span 11 frames). The paper multiplies
`n x tau` (255 for conv5_3, 705 for pool5 from its 47).
"""),
    ("code", '''
spans = feichtenhofer2016.frame_spans(table)
feichtenhofer2016.write(spans, "frame_spans", profile)
spans
'''),
    ("md", """
Parameters at full size (BN affine parameters included) and multiply-adds per chunk, against the inventory's
arithmetic. The paper prints one count of each for ResNet-50: "34M" parameters, which match no ResNet-50 count
(25.6M with the ImageNet classifier), and "3.8 billion multiply-add FLOPs", which our v1 count confirms (its
VGG-16 figure beside it, 19.6 billion, is VGG-19's; VGG-16 has 15.5). `FlopCounterMode` counts 2 FLOPs per
multiply-add; the table halves it.
"""),
    ("code", '''
parameters = feichtenhofer2016.parameter_table()
feichtenhofer2016.write(parameters, "parameters", profile)
parameters
'''),
    ("code", '''
macs = feichtenhofer2016.macs_table()
feichtenhofer2016.write(macs, "macs", profile)
macs.round(1)
'''),
]

F_FIGURE1 = [
    ("md", f"""
# feichtenhofer2016 Figure 1: motion -> appearance residual connections

{F_INTRO}

Section 3.1 and Figure 1: four connections from the motion to the appearance stream, "before the second residual
unit at each spatial resolution", none the other way. The code adds the motion res{{k}}a output (after its ReLU)
to the appearance res{{k}}a sum (before its ReLU) and feeds that only into the residual branch of appearance
res{{k}}b. Below, the edges are found on the traced graph of the network (every operation labelled with the
inputs it depends on; each edge with the module its motion operand comes from and the conv it feeds), gradients of each stream's loss are followed with autograd, and what the temporal convs
and the connections compute at initialisation is checked in float64.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import feichtenhofer2016
connections, graph = feichtenhofer2016.connections_table()
feichtenhofer2016.write(connections, "figure1", profile)
connections
'''),
    ("code", '''
feichtenhofer2016.write_figure(feichtenhofer2016.figure1(graph), "figure1", profile)
'''),
    ("md", """
At initialisation (eq. 5: each temporal 1x1x3 filter is the 1x1 filter over 3), a stream with temporal convs
gives the 2D stream's scores at the centre of 17 identical chunks, exactly; zero temporal padding reaches 8 chunks
in, so one chunk off the centre it differs. ST-ResNet built from the two trained streams keeps the motion
stream's scores but not the appearance stream's: the appearance stream now also receives relu(motion), so
ST-ResNet at initialisation is not the two-stream network (the difference is reported, on a small random net
with random BN statistics).
"""),
    ("code", '''
identities = feichtenhofer2016.init_identities()
feichtenhofer2016.write(identities, "identities", profile)
identities[["difference", "expected equal", "as expected"]]
'''),
]

F_FIGURE2 = [
    ("md", f"""
# feichtenhofer2016 Figure 2: the conv5_x units of both streams

{F_INTRO}

Figure 2 draws conv5_1 .. conv5_3 of the two streams: the temporal 1x1x3 convs (2048 -> 512 and 512 -> 2048)
in conv5_2 and the motion connection into conv5_2's residual branch only. The table is read off the full-size
ST-ResNet (kernel in the paper's H x W x T order); "receives motion" marks the conv that the traced graph's motion
edge feeds.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import feichtenhofer2016
units = feichtenhofer2016.figure2_table()
feichtenhofer2016.write(units, "figure2", profile)
units
'''),
]

F_FIGURE3 = [
    ("md", f"""
# feichtenhofer2016 Figure 3: the temporal receptive field of a unit

{F_INTRO}

Figure 3 shows how far in time a conv5 unit and a pooled unit of ST-ResNet* see. The chunks below are the ones
that change the centre unit when changed alone (measured on a small random ST-ResNet* over 31 chunks), placed on a
frame axis at `tau = 15`, beside the 47 chunks the paper's Table 1 gives pool5.
"""),
    ("params", PARAMS),
    ("code", '''
from replicate.papers import feichtenhofer2016
fields = feichtenhofer2016.measured_temporal_fields()
table = feichtenhofer2016.figure3_table(fields)
feichtenhofer2016.write(table, "figure3", profile)
table
'''),
    ("code", '''
feichtenhofer2016.write_figure(feichtenhofer2016.figure3(fields), "figure3", profile)
'''),
]

F_TRAINED = """The networks are `replicate.models.st_resnet` (registry: `st_resnet50_appearance`, `st_resnet50_motion`,
`st_resnet50`, `st_resnet50_star`), trained by `replicate.runs` from `replicate/papers/feichtenhofer2016.yaml` (the
paper's settings, with the code facts the text leaves open) scaled by the profile (`params.yaml:
profiles.<profile>.feichtenhofer2016`)."""

F_TABLE2 = [
    ("md", f"""
# feichtenhofer2016 Table 2: the training phases, paper vs ours

{F_TRAINED}

The paper trains in three stages: the two streams separately from ImageNet (the motion stream's conv1 the mean of
the RGB filters, replicated over its 20 flow channels; HMDB51's motion stream from UCF101's), ST-ResNet end to end
from both (4 motion -> appearance connections, 16 temporal convs initialised as the 1x1 filters over 3), then
ST-ResNet* (the temporal max pool) from ST-ResNet. Each stream has its own softmax loss at every temporal position,
summed over positions and averaged over videos; BN statistics are taken over sub-batches ("BN batch"). The
paper's iterations are shown as epochs of one item per training video (UCF101 split 1: 9,537 videos).

Where ours differs beyond the profile's scaling (stated here and in the spec):
- one random crop (and flip) per video for every phase; the paper jitters scale +-25% (appearance, ST) or takes
  corner crops of 4 sizes (motion);
- `tau` drawn per video, not per sub-batch of 4 (a constraint of the code's batching; every `tau` gives the same
  shapes here);
- no 2x learning rate on biases (the code's; only the classifiers have biases here);
- `mini` tests on the centre crop of 11 frames without flips (the paper: 25 whole frames and their mirror images).
"""),
    ("params", PARAMS),
    ("code", """
from replicate.papers import feichtenhofer2016
table = feichtenhofer2016.table2(profile)
feichtenhofer2016.write(table.reset_index(), "table2", profile)
table
"""),
]

F_TABLE3 = [
    ("md", f"""
# feichtenhofer2016 Table 3: appearance, motion, their fusion, ST-ResNet and ST-ResNet*

{F_TRAINED}

Rows as the paper's: the appearance stream (one RGB frame per chunk), the motion stream (10 stacked flow fields),
Two-Streams (evaluation only: the two streams' video scores averaged, non-softmaxed, as section 4.1 prefers),
ST-ResNet (stage 2) and ST-ResNet* (stage 3). A video's score is the classifier's output averaged over its test
frames (fully convolutional, every frame a chunk) and, at `paper`, over their mirror images. Table 2's notebook lists
the settings. The paper's numbers are 3-split means on UCF101 (101 classes) and HMDB51 (51); `mini` trains split 1
of the stand-ins (12 and 16 classes, 168 and 192 test videos), so only large effects resolve.

Claims are tested on per-video correctness over the seeds (`params.yaml: seeds`), videos matched by id:
**reproduced** (the 95% interval excludes 0 on the paper's side), **inconclusive** (it covers 0) or
**contradicted** (it excludes 0 on the other side). On the UCF101 stand-in 5 of the 12 classes are pairs that only
the direction of time separates (a motion and its reversal): one frame cannot tell them apart, so the appearance
stream is capped there, which the paper's "appearance above motion on UCF101" does not anticipate.
"""),
    ("params", PARAMS),
    ("code", IGNORE + """
from replicate.papers import feichtenhofer2016
runs = feichtenhofer2016.table3_runs(profile)
table = feichtenhofer2016.table3(runs, profile)
table
"""),
    ("code", IGNORE + """
claims = feichtenhofer2016.table3_claims(runs)
feichtenhofer2016.write(table, "table3", profile, claims=claims)
from IPython.display import Markdown
Markdown(feichtenhofer2016.verdicts_markdown(claims))
"""),
    ("code", IGNORE + """
feichtenhofer2016.write_figure(feichtenhofer2016.table3_bars(table), "table3", profile)
"""),
]

F_TABLE4 = [
    ("md", f"""
# feichtenhofer2016 Table 4: the state of the art, and ST-ResNet* + IDT

{F_TRAINED}

The paper compares ST-ResNet* with published ConvNets (left) and with methods that add improved dense trajectories
(IDT, right); those rows are quoted, marked *reported*, not trained. Its "ST-ResNet* + IDT" averages the
L2-normalised SVM scores of Fisher-vector-encoded IDT (HOG, HOF, MBH) with the L2-normalised ST-ResNet* video
scores, no softmax (section 4.2). IDT's binaries and camera-motion estimation are not available offline, so ours
is a **stand-in** built the same way from our own pieces (`replicate.idt`): dense trajectories tracked through our
stored optical flow, HOG / HOF / MBHx / MBHy in 2x2x3 cells along them, RootSIFT, PCA to half the dimensions,
a diagonal GMM and improved Fisher vectors per descriptor, one-vs-rest linear SVMs (C = 100); at `mini` on the
stand-ins' native 64x86 frames with a 16-component GMM (the spec and `params.yaml: profiles.<profile>.idt` list
every setting). Its row sits beside the paper's IDT with that label; its seed spread is 0 (one deterministic fit,
fused with each ST-ResNet* seed).

Claims are tested on per-video correctness over the seeds, videos matched by id (see Table 3's notebook). The paper
also says the gain from IDT is larger on HMDB51 than on UCF101: the table shows both gains; different test videos
per dataset leave no paired test of that difference.
"""),
    ("params", PARAMS),
    ("code", IGNORE + """
from replicate.papers import feichtenhofer2016
runs = feichtenhofer2016.table4_runs(profile)
table = feichtenhofer2016.table4(runs)
table
"""),
    ("code", IGNORE + """
claims = feichtenhofer2016.table4_claims(runs)
feichtenhofer2016.write(table, "table4", profile, claims=claims)
from IPython.display import Markdown
Markdown(feichtenhofer2016.verdicts_markdown(claims))
"""),
]

# ----------------------------------------------------------------------------- diba2017
D_ARCH = """The networks are built by `replicate.models.create` (registry: `densenet3d_121`, `densenet3d_169`, `t3d_121`,
`t3d_169`, `resnet3d_50`, `inception3d`, `densenet121`) at full width on PyTorch's meta device: sizes and counts are
exact, nothing is computed. The paper prints output sizes, no counts: ours are checked against the inventory's
arithmetic (`../shared/papers/notes/diba2017.md`). Nothing here depends on training."""

D_TRAINED = """The runs are `replicate.runs` trainings of `replicate/papers/diba2017.yaml` (the paper's settings; what it leaves open is
stated there) scaled by the profile (`params.yaml: profiles.<profile>.diba2017`). At `mini`: 64-px crops (the
paper's 224; Table 5's 112 -> 32), 16-frame clips (32; Table 3's 16 -> 8), width 0.25, the UCF101 / HMDB51 /
Kinetics stand-ins, one seed per run (the budget), a cosine schedule (the paper divides by 10 on validation
plateaus). Tests average the softmax of every non-overlapping clip of a video (loop-padded when shorter than
one clip), centre crop. With one seed a verdict's interval covers the sampling of test videos only (matched by id
across rows), not the spread between trainings: it says so beside each verdict."""

D_VERDICTS = """Claims are tested as everywhere in the suite (`replicate.report`): **reproduced** when the 95% interval of the
difference excludes 0 on the paper's side, **contradicted** when it excludes 0 on the other side, **inconclusive**
otherwise (not resolvable at this scale)."""

D_TABLE1 = [
    ("md", f"""
# diba2017 Table 1: DenseNet3D-121 / -169 and T3D, output sizes, channels, parameters

{D_ARCH}

Table 1's sizes (H x W x T for a 32 x 224 x 224 clip) need the first max pool to stride 1 in time and 2 in space
(the inventory's problem 2: the official code strides in time too); ours follows the table. T3D replaces each
transition by a TTL: three BN-ReLU-Conv branches of temporal depths 1/3/6 (after block 1) or 1/3/4, concatenated,
then the same 2x2x2 average pool, so every size is DenseNet3D's.
"""),
    ("params", PARAMS),
    ("code", """
from replicate.papers import diba2017
table = diba2017.table1()
diba2017.write(table, "table1", profile)
print("every size and channel count equals Table 1 / the inventory:", bool(table["match"].all()))
table
"""),
    ("md", """
## Parameters and the "1.3 times" claim

The paper says only that the TTL's branches have "different channel-depths" and that "T3D model has 1.3 times more
model parameters than DenseNet3D". Read literally (three plain branches reading all channels, the output split
three ways) T3D-121 is 2.2x DenseNet3D-121. The default here (`ttl_widths="inception"`, as GoogLeNet, which the
paper says inspired the TTL) gives each deeper branch a 1x1x1 reduction to c/4 first: 1.34x, the paper's 1.3.
Both rules are built and counted below.
"""),
    ("code", """
parameters = diba2017.parameter_table()
diba2017.write(parameters.reset_index(), "parameters", profile)
parameters
"""),
    ("code", """
ratio = diba2017.ratio_table()
diba2017.write(ratio.reset_index(), "ratio", profile)
ratio
"""),
    ("md", """
## The TTLs of T3D-121 (full width): kernels, widths, padding

Even temporal depths take one frame more after than before ("same" padding).
"""),
    ("code", """
ttl = diba2017.ttl_table()
diba2017.write(ttl.reset_index(), "ttl", profile)
ttl
"""),
    ("code", """
diba2017.macs_table()
"""),
]

D_FIGURE2 = [
    ("md", """
# diba2017 Figure 2: 2D -> 3D supervision transfer

A frozen 2D network pretrained on images (DenseNet-121; at `mini` trained on the image stand-in by the
`pretrain_images@densenet121` stage) teaches a randomly initialised 3D network without labels: the teacher sees X
frames (each alone, features averaged), the student the clip of the same time stamp; their features are
concatenated and a head (fc 512, fc 128, 2-way softmax) says whether they belong together. Positives: same video,
same time; negatives: frames of one video, a clip of another (1:1). Only the student and the head learn
(`replicate/transfer.py`). The held-out pair accuracy is measured on unlabelled videos the transfer never trains on
(every 10th video of the role).
"""),
    ("params", PARAMS),
    ("code", """
from replicate.papers import diba2017
head = diba2017.head_table()
diba2017.write(head, "figure2", profile)
head
"""),
    ("code", """
pairs = diba2017.pairs_table()
diba2017.write(pairs.reset_index(), "pairs", profile)
pairs
"""),
    ("code", """
step = diba2017.teacher_step_table()
diba2017.write(step, "step", profile)
step
"""),
    ("code", IGNORE + """
runs = diba2017.transfer_runs(profile)
diba2017.transfer_table(runs)
"""),
    ("code", IGNORE + """
diba2017.write_figure(diba2017.figure2(runs), "figure2", profile)
"""),
]


def trained_table(paper: str, name: str, title: str, text: str, trained: str, verdicts: str, runs: str, table: str,
                  figure: str | None = None) -> list:
    """A trained table's notebook: the text, the runs (``runs``: the expression that loads them) and the paper / ours
    table (``table``), then its claims' verdicts (and ``figure``: an expression of the table, saved as its figure)."""
    saved = f'{paper}.write_figure({figure}, "{name}", profile)\n' if figure else ""
    return [
        ("md", f"""
# {paper} {title}

{text}

{trained}

{verdicts}
"""),
        ("params", PARAMS),
        ("code", IGNORE + f"""
from replicate.papers import {paper}
runs = {runs}
table = {table}
table
"""),
        ("code", IGNORE + f"""
claims = {paper}.claims("{name}", runs)
{paper}.write(table, "{name}", profile, claims=claims)
{saved}from IPython.display import Markdown
Markdown({paper}.verdicts_markdown(claims))
"""),
    ]


def _d_scratch(name: str, title: str, text: str) -> list:
    return trained_table("diba2017", name, title, text, D_TRAINED, D_VERDICTS, f'diba2017.table_runs("{name}", profile)',
                         f'diba2017.scratch_table("{name}", runs)')


D_TABLE2 = _d_scratch("table2", "Table 2: DenseNet3D-121 vs -169 (UCF101 split 1, from scratch)",
                      "Depth: the same recipe, blocks 6/12/24/16 vs 6/12/32/32. (Its caption says DenseNet3D; 121 = 69.1 as in Table 4.)")
D_TABLE3 = _d_scratch("table3", "Table 3: temporal depth, 16 vs 32 frames (DenseNet3D-121, UCF101 split 1)",
                      "At `mini` the clips are 8 vs 16 frames (time 0.5); the stride stays 2.")
D_TABLE4 = _d_scratch("table4", "Table 4: T3D vs ResNet3D, Inception3D and DenseNet3D (UCF101 split 1, from scratch)",
                      "ResNet3D is Hara et al.'s (Bottleneck blocks, depth 50 as the table prints; the text says 34), Inception3D the "
                      "I3D layout without ImageNet; T3D-121 (its depth is never stated). Every net at stride 2.")
D_TABLE5 = _d_scratch("table5", "Table 5: frame resolution, 224 vs 112 (DenseNet3D-121, UCF101 split 1)",
                      "The caption says 'frame sampling rates'; the table is resolution. At `mini` 64 vs 32 px crops.")
D_TABLE6 = _d_scratch("table6", "Table 6: input stride 1 / 2 / 4 / 16 (DenseNet3D-121, UCF101 split 1)",
                      "Frames are sampled every s frames. At `mini` the strides are the paper's: 16 frames at stride s span 16s of the "
                      "stand-ins' 48-80 frames (stride 16 loops the video), as 32 frames span 32s of UCF101's ~190.")

D_TABLE7 = [
    ("md", """
# diba2017 Table 7: the datasets

Counted from this profile's lists (`replicate.config.video_list`): clips are the video files of split 1's training
and test lists (UCF101 / HMDB51: every clip once) or of the training and validation csvs (Kinetics), listed files
missing on disk included; source videos are UCF101's (class, group) pairs and one per Kinetics clip (HMDB51's lists
do not say which clips share a source video). At `mini` these are the stand-ins; at `paper` the real lists (the
paper's Kinetics count also includes its test set).
"""),
    ("params", PARAMS),
    ("code", """
from replicate.papers import diba2017
table = diba2017.table7(profile)
diba2017.write(table, "table7", profile)
table
"""),
]

D_TABLE8 = trained_table("diba2017", "table8", "Table 8: supervision transfer, Transfer and FT-Transfer (UCF101 split 1)", """Transfer: the student after the 2D -> 3D transfer (Figure 2's notebook) fine-tuned on UCF101; FT-Transfer: fine-tuned
on half of Kinetics first (every other training video of each class), then on UCF101. Scratch: Table 4's runs.""",
                         D_TRAINED, D_VERDICTS, "diba2017.table8_runs(profile)", "diba2017.table8(runs)")

D_TABLE9 = trained_table("diba2017", "table9", "Table 9: Kinetics from scratch", """Top1-Val: top-1 on the validation videos; Avg: (top-1 + top-5) / 2, which the paper reports on Kinetics' test set
and we on the validation videos. Quoted rows are marked reported. Ours: DenseNet3D-121, T3D-121, Inception3D and
ResNet3D-50 (the paper quotes a ResNet3D-38 of [13] here).""", D_TRAINED, D_VERDICTS, 'diba2017.table_runs("table9", profile)',
                         "diba2017.table9(runs)")

D_TABLE10 = trained_table("diba2017", "table10", "Table 10: UCF101 and HMDB51", """The Kinetics nets of Table 9 fine-tuned (every layer), T3D-Transfer (the transferred T3D fine-tuned; on UCF101 split 1
the run of Table 8), and T3D+TSN: the Kinetics T3D trained end to end as a TSN of 5 segments (one clip each,
average consensus), tested like the others. The paper's numbers are 3-split means; `mini` fine-tunes on split 1
(the `paper` profile on all three). Quoted rows are marked reported; the paper's claims about them (T3D+TSN above
TSN-RGB; "better than Inception3D by almost 4%", where the table gives 3.1) are not testable here.""",
                          D_TRAINED, D_VERDICTS, "diba2017.table10_runs(profile)", "diba2017.table10(runs, profile)",
                          figure="diba2017.table10_bars(table)")

# ----------------------------------------------------------------------------- diba2018
DB_ARCH = """The networks are built by `replicate.models.create` (registry: `resnet3d_18` / `_50` / `_101`, `resnext3d_101`,
`stc_resnet3d_18` / `_50` / `_101`, `stc_resnext3d_101`) at full width on PyTorch's meta device: sizes and counts are
exact, nothing is computed. No code for STC exists anywhere and our copy of the paper lost its formulas and Table 1's
body: every choice is stated in `replicate/models/stc.py` and checked here against the inventory's arithmetic
(`../shared/papers/notes/diba2018.md`; the paper prints no counts). Nothing here depends on training."""

DB_TABLE1 = [
    ("md", f"""
# diba2018 Table 1: 3D-ResNet-101, STC-ResNet-101 and STC-ResNeXt-101

{DB_ARCH}

The backbones are Hara et al.'s 3D ResNets (the paper's [4]): Conv-BN-ReLU, a 7x7x7 stem with stride 1x2x2, a 3x3x3
max pool with stride 2 in every dimension, stride 2 in time and space at conv3_1, conv4_1 and conv5_1. Table 1's
caption ("BN-ReLU-Conv", "max pool, stride 1") is T3D's, copied over: we follow Hara's code. Every residual unit has
an STC block (placement A, SE's: z = ReLU(x + x_stc(F(x))); why not B: below): a temporal correlation branch (TCB: global spatio-temporal pool,
fc C -> C/4 -> C, sigmoid) and a spatial correlation branch (SCB: spatial pool keeping time, fc TC -> TC/4 -> C,
sigmoid), whose gates are averaged. The SCB's first fc sees T x C numbers, so an STC network is built for one clip
length; the table lists each unit and its STC fcs at 16 frames, and the output sizes at 16 and 32 frames (112 px).
"""),
    ("params", PARAMS),
    ("code", """
from replicate.papers import diba2018
table = diba2018.table1()
diba2018.write(table, "table1", profile)
print("every output size equals the inventory's:", bool(table["match"].all()))
table
"""),
    ("md", """
## Parameters: backbones, STC at 16 / 32 / 64 frames, Table 5's branch variants

Each count against the inventory's arithmetic (M, 400 classes). ResNet-18 / -34 use Hara's zero-padding shortcuts
(type A, no parameters), the deeper nets 1x1x1 projections (type B).
"""),
    ("code", """
parameters = diba2018.parameter_table()
diba2018.write(parameters.reset_index(), "parameters", profile)
parameters
"""),
    ("code", """
branches = diba2018.branch_table()
diba2018.write(branches.reset_index(), "branches", profile)
branches
"""),
    ("code", """
diba2018.stc_block_counts()
"""),
    ("md", """
## Where the block sits: placement A, not B

The text says the block is "inserted after each residual block" and its output "added to the residual layer"; the
formulas are lost. Read as its own residual after the unit (B: z = y + x_stc(y)), every unit multiplies the identity
path by 1 + gate, about 1.5 at initialisation, so a stage of n units scales it by about 1.5^n: conv4_x's 23 units by
~10^4, and the STC fcs of its late units see pooled features that large. Measured at the `mini` recipe
(STC-ResNet-101, UCF101 stand-in, lr 0.05, 8 epochs): B diverged in its first epoch (loss 8.5, chance 2.5) and stayed
at chance; A (SE's placement: the gate rescales the residual branch before the addition) trained. The study builds A
(`replicate/models/stc.py`); B stays an option (`placement="B"`), with the same parameters. Stage outputs at
initialisation (width 0.25, 16 x 32 x 32 random clips, train mode):
"""),
    ("code", """
diba2018.placement_scale_table()
"""),
    ("md", """
## "Small overhead of STC blocks"

Section 4.3 calls the STC blocks a small overhead. Measured: parameters, and FLOPs of one 112-px clip
(`FlopCounterMode`, 2 per multiply-add).
"""),
    ("code", """
overhead = diba2018.overhead_table()
diba2018.write(overhead.reset_index(), "overhead", profile)
from IPython.display import Markdown
display(overhead)
Markdown(diba2018.overhead_text(overhead))
"""),
]

DB_TABLE2 = [
    ("md", """
# diba2018 Table 2: the datasets

The paper's Table 2 is diba2017's Table 7 (the same counts): counted by the same code, from this profile's lists
(`replicate.config.video_list`): clips are the video files of split 1's training and test lists (UCF101 / HMDB51:
every clip once) or of the training and validation csvs (Kinetics), listed files missing on disk included; source
videos are UCF101's (class, group) pairs and one per Kinetics clip (HMDB51's lists do not say which clips share a
source video). At `mini` these are the stand-ins; at `paper` the real lists.
"""),
    ("params", PARAMS),
    ("code", """
from replicate.papers import diba2018
table = diba2018.table2(profile)
diba2018.write(table, "table2", profile)
table
"""),
]

DB_TRAINED = """The runs are `replicate.runs` trainings of `replicate/papers/diba2018.yaml` (the paper's settings; what it leaves open is
stated there) scaled by the profile (`params.yaml: profiles.<profile>.diba2018`, where the `mini` regime and its
measurements are written down). At `mini`: 32-px crops (the paper's 112), clips of half the paper's length (32 -> 16,
16 -> 8), width 0.25, the UCF101 / HMDB51 / Kinetics stand-ins, one seed per run, a cosine schedule (the paper divides
by 10 on validation plateaus). Tests average the softmax of every non-overlapping clip of a video, centre crop. With
one seed a verdict's interval covers the sampling of test videos only (matched by id across rows), not the spread
between trainings: it says so beside each verdict."""

def _db_scratch(name: str, title: str, text: str) -> list:
    return trained_table("diba2018", name, title, text, DB_TRAINED, D_VERDICTS, f'diba2018.table_runs("{name}", profile)',
                         f'diba2018.scratch_table("{name}", runs)', figure="diba2018.bars(table)")


DB_TABLE3 = _db_scratch("table3", "Table 3: depth, 3D-ResNet-101 vs STC-ResNet-18 / 50 / 101 (UCF101 split 1, from scratch)",
                        "Every net at 32 frames, stride 2, the same recipe; STC-ResNet-101 is the row Tables 3-6 share. The "
                        "paper's equivalence claim (\"STC-ResNet50 is comparable with regular ResNet101\", 46.2 vs 46.7) needs a "
                        "margin: two rows count as comparable when the 95% interval of their difference lies within +-2 points "
                        "(an assumption: the paper gives none; it cannot be *reproduced* by a noisy measurement, only by one "
                        "precise enough to exclude larger gaps).")
DB_TABLE4 = _db_scratch("table4", "Table 4: temporal depth, 16 vs 32 frames (STC-ResNet-101, UCF101 split 1)",
                        "The SCB is built for one clip length: the 16-frame net is its own network (its SCB fcs see 16 / 2^k "
                        "time steps per stage), trained and tested on 16-frame clips. At `mini` the clips are 8 vs 16 frames.")
DB_TABLE5 = _db_scratch("table5", "Table 5: the STC branches, SCB / TCB / both (STC-ResNet-101, UCF101 split 1)",
                        "TCB: the temporal correlation branch (global spatio-temporal pool); SCB: the spatial correlation branch "
                        "(spatial pool keeping time, its first fc over T x C); both: their gates averaged. Parameters of each "
                        "variant: Table 1's notebook.")
DB_TABLE6 = _db_scratch("table6", "Table 6: input stride 1 / 2 / 4 / 16 (STC-ResNet-101, UCF101 split 1)",
                        "Frames are sampled every s frames for training and testing. At `mini` the strides are the paper's: "
                        "16 frames at stride s span 16s of the stand-ins' 48-80 frames (stride 16 loops the video).")

DB_TABLE7 = trained_table("diba2018", "table7", "Table 7: 2D -> 3D knowledge transfer, Transfer and FT-Transfer (UCF101 split 1)", """The transfer is diba2017's (`replicate/transfer.py`): a frozen 2D ResNet-50 pretrained on images (at `mini` on the image
stand-in, the `pretrain_images@resnet50` stage that feichtenhofer2016's streams also start from) teaches each
randomly initialised 3D net on unlabelled videos by frames-clip correspondence. Transfer: the student fine-tuned on
UCF101; FT-Transfer: fine-tuned on half of Kinetics first (every other training video of each class), then on
UCF101. Scratch: Table 3's runs (32 frames; the transfers use 16, the paper's). The paper names 2D ResNet and ResNeXt
teachers without saying which taught which: one teacher here, so the rows differ only in the student.""",
                          DB_TRAINED, D_VERDICTS, "diba2018.table7_runs(profile)", "diba2018.table7(runs)") + [
    ("code", IGNORE + """
transfers = diba2018.pair_table(diba2018.transfer_runs(profile))
diba2018.write(transfers, "transfers", profile)
transfers
"""),
]

DB_TABLE8 = trained_table("diba2018", "table8", "Table 8: Kinetics from scratch", """Top-1 and top-5 on the validation videos. DenseNet3D and Inception3D are diba2017's Kinetics runs (its recipe at this
profile: read from `runs/<profile>/diba2017/`, never trained twice). The paper quotes Hara et al.'s 3D-ResNet-101 and
3D-ResNeXt-101 as its baselines (another code base, another recipe); ours are trained here under the STC nets' own
recipe, so each STC claim compares two runs of one recipe. C3D* and RGB-I3D are only quoted. The abstract's "2-3% on
Kinetics" is not the table's own +1.3 / +1.1: listed, not tested.""",
                          DB_TRAINED, D_VERDICTS, 'diba2018.table_runs("table8", profile)', "diba2018.table8(runs)",
                          figure='diba2018.bars(table, "top-1")')

DB_TABLE9 = trained_table("diba2018", "table9", "Table 9: UCF101 and HMDB51", """The Kinetics nets of Table 8 fine-tuned (every layer), and the transferred nets of Table 7 fine-tuned ("-Transfered
Knowledge"; on UCF101 split 1 the very runs of Table 7's Transfer column). Inception3D is diba2017's Kinetics net
fine-tuned (diba2017's Table 10 runs, read from there). Each fine-tune keeps its source's clip length (an SCB is built
for one). The paper's numbers are 3-split means; `mini` fine-tunes on split 1 (the `paper` profile on all three), and
does not train the 64-frame rows (their Kinetics net alone would cost as much as the rest of Table 8). Quoted rows are
marked reported.""", DB_TRAINED, D_VERDICTS, "diba2018.table9_runs(profile)", "diba2018.table9(runs, profile)",
                          figure="diba2018.table9_bars(table)")

NOTEBOOKS = {
    "tran2018": (("table1", TABLE1), ("table2", TABLE2), ("figure3", FIGURE3), ("figure4", FIGURE4),
                 ("figure5", FIGURE5), ("figure6", FIGURE6), ("table3", TABLE3), ("table4", TABLE4), ("table5", TABLE5)),
    "mansimov2015": (("figure1", M_FIGURE1), ("table1", M_TABLE1), ("figure2", M_FIGURE2), ("table2", M_TABLE2),
                     ("table3", M_TABLE3)),
    "feichtenhofer2016": (("table1", F_TABLE1), ("figure1", F_FIGURE1), ("figure2", F_FIGURE2), ("figure3", F_FIGURE3),
                          ("table2", F_TABLE2), ("table3", F_TABLE3), ("table4", F_TABLE4)),
    "diba2017": (("table1", D_TABLE1), ("figure2", D_FIGURE2), ("table2", D_TABLE2), ("table3", D_TABLE3),
                 ("table4", D_TABLE4), ("table5", D_TABLE5), ("table6", D_TABLE6), ("table7", D_TABLE7),
                 ("table8", D_TABLE8), ("table9", D_TABLE9), ("table10", D_TABLE10)),
    "diba2018": (("table1", DB_TABLE1), ("table2", DB_TABLE2), ("table3", DB_TABLE3), ("table4", DB_TABLE4),
                 ("table5", DB_TABLE5), ("table6", DB_TABLE6), ("table7", DB_TABLE7), ("table8", DB_TABLE8),
                 ("table9", DB_TABLE9)),
}


if __name__ == "__main__":
    import sys

    wanted = set(sys.argv[1:])  # notebook names (table1) or paper/name (mansimov2015/table1) to write (default: all)
    for paper, notebooks in NOTEBOOKS.items():
        for name, cells in notebooks:
            if wanted and name not in wanted and f"{paper}/{name}" not in wanted and paper not in wanted:
                continue
            path = ROOT / "notebooks" / paper / f"{name}.ipynb"
            notebook(cells, path)
            print("wrote", path)
