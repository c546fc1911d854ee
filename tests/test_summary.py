"""The study's summary (replicate/summary.py): every claims file read, counts that add up, README kept current."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from replicate import report, summary
from replicate.errors import UsageError

REPO = Path(__file__).resolve().parent.parent


def _tree(tmp_path: Path) -> Path:
    """A results tree with three real claims files of the mini study: two jsons (one with a quoted claim that is
    not run) and tran2018's text-only csv (Figure 5 writes no json)."""
    for rel in ("diba2018/mini/table5_claims", "diba2018/mini/table9_claims"):
        for suffix in (".json", ".csv"):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / "results" / (rel + suffix), tmp_path / (rel + suffix))
    (tmp_path / "tran2018/mini").mkdir(parents=True)
    shutil.copy(REPO / "results/tran2018/mini/figure5_claims.csv", tmp_path / "tran2018/mini/figure5_claims.csv")
    return tmp_path


def test_claim_rows_and_counts_from_json_and_text_only_files(tmp_path):
    root = _tree(tmp_path)
    claims = summary.claim_rows("mini", root)
    csvs = {p: pd.read_csv(root / p, keep_default_na=False) for p in
            ("diba2018/mini/table5_claims.csv", "diba2018/mini/table9_claims.csv", "tran2018/mini/figure5_claims.csv")}
    assert len(claims) == sum(len(df) for df in csvs.values())
    # the json's numbers, and the same "ours" text the table's own claims file shows
    t5 = claims[claims["table"] == "table5"].set_index("claim")
    json_ours = csvs["diba2018/mini/table5_claims.csv"].set_index("claim")["ours"]
    assert (t5["ours"] == json_ours.reindex(t5.index)).all()
    assert (t5["half_width"] - (t5["ci_high"] - t5["ci_low"]) / 2).abs().max() < 1e-9
    # text-only: the gap read back from its text; an exact count keeps no interval
    f5 = claims[claims["table"] == "figure5"].set_index("claim")
    first = f5.loc["clip accuracy continues to increase when we add more frames"]
    assert (first["diff"], first["ci_low"], first["ci_high"], first["half_width"]) == (31.9, 27.4, 36.5, 4.6)
    assert f5["diff"].isna().sum() == sum("no interval" in o for o in f5["ours"])
    # a claim that is not run has a reason, no numbers; one the spec lists as reported is not testable by our runs,
    # one whose rows the profile skips is not run at this profile (both files say "not run at this profile")
    quoted = claims[claims["claim"] == "STC-ResNext best RGB method"].iloc[0]
    assert quoted["verdict"] == summary.UNTESTABLE and "I3D" in quoted["ours"] and pd.isna(quoted["diff"])
    skipped = claims[claims["claim"] == "64 frames above 16 (STC-ResNet, UCF101)"].iloc[0]
    assert skipped["verdict"] == report.NOT_RUN and "skip_groups" in skipped["ours"]
    assert ("table9", "STC-ResNext best RGB method") in summary.untestable_claims("diba2018")
    assert all(summary.untestable_claims(p) for p in ("mansimov2015", "diba2017", "diba2018"))
    # counts: every verdict of every file, per paper, with totals that add up
    table = summary.counts(claims)
    for paper in ("diba2018", "tran2018"):
        verdicts = pd.concat([df["verdict"] for p, df in csvs.items() if p.startswith(paper)]).value_counts()
        untestable = (claims["paper"] == paper).mul(claims["verdict"] == summary.UNTESTABLE).sum()
        verdicts[report.NOT_RUN] = verdicts.get(report.NOT_RUN, 0) - untestable  # the files' word for both kinds
        assert table.loc[paper, list(verdicts.index)].tolist() == verdicts.tolist()
        assert table.loc[paper, summary.UNTESTABLE] == untestable
        assert table.loc[paper, "claims"] == verdicts.sum() + untestable
    assert table.loc["diba2017", "claims"] == 0  # a paper without claims files is a row of zeros, not missing
    assert table.loc["all papers", "claims"] == len(claims) == table["claims"].iloc[:-1].sum()
    # seeds per trained row, as the jsons record them (the text-only csv does not say)
    assert table.loc["diba2018", "seeds per row"] == "1" and table.loc["tran2018", "seeds per row"] == ""


def test_an_unknown_verdict_is_refused_not_dropped(tmp_path):
    root = _tree(tmp_path)
    f5 = root / "tran2018/mini/figure5_claims.csv"
    f5.write_text(f5.read_text().replace(",reproduced\n", ",surprising\n", 1))
    with pytest.raises(ValueError, match="surprising"):
        summary.claim_rows("mini", root)


def test_write_summary_and_readme_block(tmp_path):
    root = _tree(tmp_path)
    claims = summary.write_summary("mini", root)
    assert len(pd.read_csv(root / "summary.csv")) == len(claims)
    metrics = json.loads((root / "summary.json").read_text())  # DVC's metrics: numbers only, one dict per paper
    assert list(metrics) == [*summary.PAPERS, "all papers"]
    assert metrics["all papers"]["claims"] == len(claims) == sum(metrics[p]["claims"] for p in summary.PAPERS)
    assert all(isinstance(n, int) for counts in metrics.values() for n in counts.values())
    text = (root / "summary.md").read_text()
    assert "| diba2018 | " in text and "## diba2018 (" in text and "STC-ResNext best RGB method" in text and "no claims files" in text
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{summary.README_START}\nold\n{summary.README_END}\nrest\n")
    assert summary.update_readme("mini", readme, root) and not summary.update_readme("mini", readme, root)
    assert readme.read_text().startswith("intro\n") and readme.read_text().endswith("rest\n") and "old" not in readme.read_text()
    readme.write_text("no block\n")
    with pytest.raises(UsageError, match="no summary counts block"):
        summary.update_readme("mini", readme, root)


def test_each_papers_part_reads_the_curves_stages_minutes(tmp_path):
    root = _tree(tmp_path)
    (root / "curves/mini").mkdir(parents=True)
    time = {"training minutes": 12.5, "run minutes": 14.0, "trained runs": 43, "trained seeds": 43, "epochs": 150}
    (root / "curves/mini/diba2018.json").write_text(json.dumps(time))
    claims = summary.write_summary("mini", root)
    parts = summary.paper_parts("mini", claims, root)
    assert list(parts.index) == list(summary.PAPERS) and set(parts["profile"]) == {"mini"}
    assert parts.loc["diba2018", "run minutes"] == 14.0 and parts.loc["diba2018", "trained seeds"] == 43
    assert parts.loc["diba2018", "seeds per row"] == "1"
    assert parts.loc["tran2018", "run minutes"] == report.NA  # its curves stage has not run: no number made up
    text = (root / "summary.md").read_text()
    assert "## Each paper's part" in text and "| diba2018 | mini | 1 | 43 | 43 | 12.5 | 14.0 |" in text
    # the summary stage reruns when a paper's minutes change
    deps = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["summary"]["deps"]
    assert {f"results/curves/${{profile}}/{p}.json" for p in summary.PAPERS} <= set(deps)


def test_readme_counts_are_the_committed_claims_files():
    """README shows the counts generated from results/ (run `python -m replicate.summary --readme` after a repro)."""
    assert summary.readme_block("mini") in (REPO / "README.md").read_text()


def test_summary_stage_depends_on_every_claims_file_the_notebooks_write():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    deps = set(stages["summary"]["deps"])
    declared = set()  # every claims file a notebook stage declares (outs, metrics or plots)
    for name, stage in stages.items():
        for kind in ("outs", "metrics", "plots"):
            for out in stage.get(kind) or []:
                path = out if isinstance(out, str) else next(iter(out))
                if name != "summary" and "_claims." in path and path.endswith((".json", ".csv")):
                    declared.add(path)
    read = {str(p.relative_to(REPO)).replace("/mini/", "/${profile}/")
            for paper in summary.PAPERS for p in summary.claims_files(paper, "mini")}
    assert read <= declared and read <= deps  # every file the summary reads is a declared output, and its dep
    assert {d for d in deps if "_claims." in d} == read


def test_make_study_takes_one_paper_and_refuses_others():
    import fnmatch
    import re
    import subprocess

    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^PAPERS := (.*)$", makefile, flags=re.M).group(1).split() == list(summary.PAPERS)
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for paper in summary.PAPERS:  # the glob `make study PAPER=<paper>` passes selects that paper's stages only
        picked = {s for s in stages if fnmatch.fnmatch(s, f"*{paper}*")}
        assert any(s.startswith(f"{paper}_table") for s in picked)
        assert not any(other in s for s in picked for other in summary.PAPERS if other != paper)
    dry = subprocess.run(["make", "--no-print-directory", "-n", "study", "PAPER=diba2018"], cwd=REPO, capture_output=True, text=True)
    assert dry.returncode == 0 and dry.stdout.strip().splitlines()[-1].endswith("-m replicate.dvc_lock repro --glob '*diba2018*'")
    bad = subprocess.run(["make", "--no-print-directory", "-n", "study", "PAPER=diba2019"], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and "PAPER=diba2019 is not a paper of the study: use one of tran2018" in bad.stderr
