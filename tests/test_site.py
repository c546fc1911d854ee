"""The static site (replicate/site.py), built from the committed mini results: every page there, every link and image
resolving, nothing fetched from outside; then in a real browser (headless Chromium, replicate/browser.py): the index,
a notebook page with a figure and the dataset card load with their stylesheet, images and links, and screenshot."""
from __future__ import annotations

import functools
import os
import http.server
import re
import subprocess
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from replicate import browser, report, site, summary
from replicate.errors import MissingInputError

PROFILE = "mini"  # the committed results: the site of a fresh clone before anything runs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    return out, site.build(PROFILE, out, progress=False)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [(tag, value) for name, value in attrs if name in ("href", "src") and value]


def _refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text())
    return parser


def test_every_paper_notebook_and_the_card_get_a_page(built):
    out, pages = built
    expected = {out / "index.html", out / "data" / "index.html"}
    for paper in summary.PAPERS:
        executed = site.notebooks(paper, PROFILE, report.RESULTS_ROOT)
        assert executed, f"no executed notebooks of {paper} at {PROFILE}"
        expected |= {out / paper / "index.html"} | {out / paper / f"{nb.stem}.html" for nb in executed}
    assert set(pages) == expected
    assert all(p.is_file() for p in expected)


def test_index_shows_the_summary_counts(built):
    out, _ = built
    text = (out / "index.html").read_text()
    counts = summary.counts(summary.claim_rows(PROFILE))
    for paper, row in counts.iterrows():
        cells = re.search(rf"<tr><td>(?:<a [^>]*>)?{re.escape(paper)}(?:</a>)?</td>(.*?)</tr>", text)
        assert cells, f"no row for {paper} on the index"
        numbers = re.findall(r"<td[^>]*>(\d+)</td>", cells.group(1))
        columns = [*summary.VERDICTS, "claims"]  # then the seeds per row
        assert [int(n) for n in numbers[: len(columns)]] == [int(row[v]) for v in columns]


def test_every_link_and_image_resolves_and_nothing_comes_from_outside(built):
    out, pages = built
    images = 0
    for page in pages:
        parsed = _refs(page)
        assert "script" not in parsed.tags, f"{page}: a script (the site is meant to work offline, without one)"
        for tag, ref in parsed.refs:
            assert not re.match(r"[a-z]+://|//", ref), f"{page}: {ref} is outside the site"
            if ref.startswith("#"):  # a heading's anchor on the same page (nbconvert's)
                continue
            if ref.startswith("data:"):
                images += tag == "img"
                continue
            target = (page.parent / ref.split("#")[0]).resolve()
            assert target.is_file(), f"{page.relative_to(out)}: {ref} does not resolve"
            assert out.resolve() in target.parents, f"{page}: {ref} leaves the site"
            images += tag == "img"
    # every figure a notebook wrote and the card's strips and flow figures are on some page
    assert images >= len(list(report.RESULTS_ROOT.glob(f"*/{PROFILE}/*.png")))


def test_figures_a_notebook_wrote_but_does_not_show_are_beside_it(built):
    out, _ = built
    page = (out / "diba2018" / "table3.html").read_text()
    assert '<img src="table3.png"' in page and (out / "diba2018" / "table3.png").is_file()


def test_without_results_one_line_error(tmp_path, capsys):
    with pytest.raises(MissingInputError, match="run `dvc repro`"):
        site.build(PROFILE, tmp_path / "site", results=tmp_path)
    with pytest.raises(SystemExit) as exited:
        site.main(["--profile", "nosuchprofile", "--out", str(tmp_path / "site")])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and not (tmp_path / "site").exists()


@pytest.fixture(scope="module")
def served(built):
    out, _ = built

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


BROWSER_PAGES = ["index.html", "diba2018/table3.html", "tran2018/figure5.html", "data/index.html"]


def test_pages_in_headless_chromium(served, tmp_path):
    if browser.find_chromium() is None and not os.environ.get("REQUIRE_BROWSER"):  # make test-site requires it
        pytest.skip("no Chromium: `make test-site` installs Debian's chromium-headless-shell and runs this test")
    with browser.Chromium() as chromium:
        group = chromium._process.pid
        for page in BROWSER_PAGES:
            seen = chromium.visit(f"{served}/{page}")
            assert seen["status"] == 200, page
            assert seen["failed_requests"] == [], page
            assert seen["styled"] == "rgb(32, 48, 60)", f"{page}: the stylesheet did not apply"
            assert seen["text"] > 500, f"{page}: (almost) no text"
            assert [i["src"][:60] for i in seen["images"] if not i["ok"]] == [], f"{page}: broken images"
            assert [link for link in seen["links"] if link["status"] != 200] == [], f"{page}: broken links"
            if page != "index.html":
                assert seen["images"], f"{page}: no figure"
            shot = chromium.screenshot(tmp_path / f"{page.replace('/', '_')}.png")
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        # the check can fail: a missing page is reported as such
        assert chromium.visit(f"{served}/no_such_page.html")["status"] == 404
    # no renderer or GPU process left behind (they outlive the browser process unless its group is stopped)
    for _ in range(50):
        alive = subprocess.run(["ps", "-o", "stat=", "-g", str(group)], capture_output=True, text=True).stdout.split()
        if not [state for state in alive if not state.startswith("Z")]:  # zombies wait for init to reap them
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"Chromium processes left running: {alive}")


def test_site_stage_depends_on_every_paper_and_make_site_serves_it():
    import subprocess

    import yaml

    repo = Path(__file__).resolve().parent.parent
    stage = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]["site"]
    wanted = {f"results/{paper}/${{profile}}" for paper in [*summary.PAPERS, "data"]} | {"replicate/site.py"}
    assert wanted <= set(stage["deps"]), wanted - set(stage["deps"])
    assert stage["outs"] == ["results/site"]
    dry = subprocess.run(["make", "--no-print-directory", "-n", "site"], cwd=repo, capture_output=True, text=True)
    assert dry.returncode == 0 and "dvc repro site" in dry.stdout
    assert "http.server 8000 --bind 127.0.0.1 --directory results/site" in dry.stdout.splitlines()[-1]


def test_a_paper_page_counts_its_own_claims_only(built):
    out, _ = built
    page = (out / "diba2018" / "index.html").read_text()
    assert "<td>diba2018</td>" in page and "<td>tran2018</td>" not in page and "all papers" not in page
