"""tools/compare_verdicts.py: the check that verdicts reproduce across builds."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "compare_verdicts.py"
HEADER = "claim,paper says,ours,verdict\n"


def folder(path: Path, rows: dict[str, str]) -> Path:
    path.mkdir()
    body = "".join(f'{claim},"text","{verdict} estimate",{verdict}\n' for claim, verdict in rows.items())
    (path / "table2_claims.csv").write_text(HEADER + body)
    return path


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=60)


def test_agreeing_verdicts_exit_0_and_differing_ones_exit_1(tmp_path):
    a = folder(tmp_path / "a", {"R(2+1)D best": "inconclusive", "MC above rMC": "contradicted"})
    same = folder(tmp_path / "same", {"R(2+1)D best": "inconclusive", "MC above rMC": "contradicted"})
    other = folder(tmp_path / "other", {"R(2+1)D best": "reproduced", "MC above rMC": "contradicted"})
    ok = run(a, same, "--labels", "x", "y", "--out", tmp_path / "cmp.md")
    assert ok.returncode == 0 and "2 of 2 verdicts agree" in ok.stdout
    assert (tmp_path / "cmp.md").read_text() == ok.stdout
    bad = run(a, other)
    assert bad.returncode == 1 and "1 of 2 verdicts agree" in bad.stdout
    assert "| table2 | R(2+1)D best | inconclusive estimate | inconclusive | reproduced estimate | reproduced | **no** |" in bad.stdout


def test_a_claim_on_one_side_only_counts_as_differing(tmp_path):
    a = folder(tmp_path / "a", {"R(2+1)D best": "inconclusive", "extra": "reproduced"})
    b = folder(tmp_path / "b", {"R(2+1)D best": "inconclusive"})
    proc = run(a, b)
    assert proc.returncode == 1 and "| missing |" in proc.stdout


def test_a_folder_without_claims_is_one_line_and_exit_2(tmp_path):
    a = folder(tmp_path / "a", {"R(2+1)D best": "inconclusive"})
    (tmp_path / "empty").mkdir()
    proc = run(a, tmp_path / "empty")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "no *_claims.csv" in proc.stderr
