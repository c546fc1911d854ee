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
gaps) are tested with a paired bootstrap over test videos (95% CI): **reproduced**, **inconclusive** (the interval
covers 0: not resolvable at this scale) or **contradicted**.
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
Curves are clip errors per epoch (train: the training clips seen in the epoch; test: one centre clip per test
video). The verdicts compare final-epoch errors with 95% intervals: test error (video@1, 10 clips) by a paired
bootstrap over test videos; train error, where each model saw its own random clips, by an interval for two
independent proportions.
"""),
    ("params", PARAMS),
    ("code", IGNORE + '''
from replicate.papers import tran2018
runs = tran2018.figure4_runs(profile)
fig = tran2018.figure4(runs)
tran2018.write_figure(fig, "figure4", profile)
'''),
    ("code", IGNORE + '''
summary = tran2018.figure4_summary(runs)
tran2018.write(summary, "figure4", profile)
summary
'''),
]

if __name__ == "__main__":
    import sys

    wanted = set(sys.argv[1:])  # notebook names to write (default: all)
    nbdir = ROOT / "notebooks" / "tran2018"
    for name, cells in (("table1", TABLE1), ("table2", TABLE2), ("figure3", FIGURE3), ("figure4", FIGURE4)):
        if wanted and name not in wanted:
            continue
        notebook(cells, nbdir / f"{name}.ipynb")
        print("wrote", nbdir / f"{name}.ipynb")
