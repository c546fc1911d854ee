"""The study as a static site: ``results/site/`` (the DVC stage ``site``; ``make site`` builds and serves it).

``python -m replicate.site [--profile P] [--out DIR]`` writes, from what the study's stages wrote and nothing else:

- ``index.html``: the counts per verdict per paper (:func:`replicate.summary.counts`, the same table as
  ``results/summary.md`` and the README) and a link to each paper's page and to the dataset card;
- ``<paper>/index.html``: the paper's title, its counts, every claim with the paper's words, ours with the interval
  and the verdict, and a link to each executed notebook of ``results/<paper>/<profile>/``;
- ``<paper>/<notebook>.html``: the executed notebook rendered by nbconvert, its figures embedded (``data:`` URIs);
- ``data/index.html``: the dataset card (``results/data/<profile>/dataset_card.md``) with its sample strips and
  flow figures copied beside it.

Every page is self-contained apart from the site's one stylesheet: no script, no CDN, no server needed (open
``index.html``), so it reads the same on an offline machine. Links are relative, so the folder can be moved or
published as it is. ``tests/test_site.py`` loads it in headless Chromium and checks that every link and image resolves.
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
from pathlib import Path

import pandas as pd

from . import config, report, summary
from .errors import MissingInputError, cli

SITE = report.RESULTS_ROOT / "site"
#: one class per verdict, so the stylesheet colours them
VERDICT_CLASS = {report.REPRODUCED: "reproduced", report.CONTRADICTED: "contradicted",
                 report.INCONCLUSIVE: "inconclusive", report.NOT_RUN: "not-run",
                 summary.UNTESTABLE: "not-run"}
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2328; margin: 0; }
header { background: #20303c; color: #fff; padding: 0.8em 2em; }
header a { color: #cfe3f2; text-decoration: none; margin-right: 1.2em; }
main { max-width: 1200px; margin: 0 auto; padding: 1em 2em 3em; }
table { border-collapse: collapse; margin: 0.8em 0 1.4em; font-size: 0.92em; }
th, td { border: 1px solid #cfd6dc; padding: 0.3em 0.6em; vertical-align: top; text-align: left; }
th { background: #eef2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.reproduced { background: #dcf3df; } .contradicted { background: #f8dcdc; }
.inconclusive { background: #fbf1d3; } .not-run { background: #eceff1; color: #555; }
img { max-width: 100%; }
.notebook .input pre, .notebook .output pre { background: #f6f8fa; padding: 0.5em; overflow-x: auto; font-size: 0.88em; }
.notebook .prompt { display: none; }
.notebook table { font-size: 0.88em; }
.muted { color: #5b6670; }
"""


def _page(title: str, body: str, depth: int) -> str:
    """A page of the site ``depth`` folders below its root (for the relative links of the header)."""
    up = "../" * depth
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)}</title><link rel="stylesheet" href="{up}style.css"></head>\n'
            f'<body><header><a href="{up}index.html">replicate: the study</a>'
            f'<a href="{up}data/index.html">dataset card</a></header>\n<main>\n{body}\n</main></body></html>\n')


def _table(df: pd.DataFrame, verdict_column: str | None = None, link: dict[str, str] | None = None) -> str:
    """An HTML table of ``df`` (its index as the first column); a verdict column's cells get their verdict's class,
    and index values in ``link`` become links."""
    link = link or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or "", *df.columns])
    rows = []
    for name, row in df.iterrows():
        shown = html.escape(str(name))
        cells = [f'<td><a href="{link[name]}">{shown}</a></td>' if name in link else f"<td>{shown}</td>"]
        for column, value in row.items():
            text = report.NA if pd.isna(value) else str(value)
            classes = [VERDICT_CLASS.get(text, "")] if column == verdict_column else []
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                classes.append("num")
            cls = f' class="{" ".join(c for c in classes if c)}"' if any(classes) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"


def _natural(path: Path) -> tuple:
    """table2 before table10; tables before figures (the order of each paper's notebooks folder)."""
    kind, number = re.match(r"([a-z_]+?)(\d*)$", path.stem).groups()
    return (kind != "table", kind, int(number or 0), path.stem)


def notebooks(paper: str, profile: str, results: Path) -> list[Path]:
    return sorted((results / paper / profile).glob("*.ipynb"), key=_natural)


def _heading(notebook: Path) -> str:
    """A notebook's first markdown heading (its title), or its file name."""
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            found = re.search(r"^#+\s*(.+)$", cell.source, flags=re.M)
            if found:
                return found.group(1).strip()
    return notebook.stem


def render_notebook(notebook: Path) -> str:
    """The body of an executed notebook as HTML: nbconvert's ``basic`` template (no scripts, no CDN), images inline."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic", embed_images=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_filename(str(notebook), resources={"metadata": {"path": str(notebook.parent)}})
    return body


def _figures_beside(notebook: Path, body: str, folder: Path) -> str:
    """The figures a notebook wrote (``<stem>*.png`` beside it) but does not show, copied into ``folder``."""
    if "<img" in body:
        return ""
    shown = []
    folder.mkdir(parents=True, exist_ok=True)
    for figure in sorted(notebook.parent.glob(f"{notebook.stem}*.png")):
        shutil.copy2(figure, folder / figure.name)
        shown.append(f'<p><img src="{figure.name}" alt="{figure.stem}"></p>')
    return "<h2>Figures this notebook wrote</h2>\n" + "\n".join(shown) if shown else ""


def paper_title(paper: str) -> str:
    from .runs import load_spec

    return load_spec(paper).get("title", paper)


def build(profile: str, out: Path = SITE, results: Path | None = None, progress: bool = True) -> list[Path]:
    """Write the site for ``profile`` into ``out`` (replacing what is there); return the pages written."""
    from tqdm import tqdm

    results = results or report.RESULTS_ROOT
    card = results / "data" / profile / "dataset_card.md"
    missing = [p for p in [card] + [results / paper / profile for paper in summary.PAPERS] if not p.exists()]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise MissingInputError(f"no {missing[0]}{more}: the site shows what the study wrote; run `dvc repro` "
                                f"(or `make study`) at profile {profile} first")
    claims = summary.claim_rows(profile, results)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "style.css").write_text(STYLE.lstrip())
    pages = []

    def write(path: Path, title: str, body: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_page(title, body, depth=len(path.relative_to(out).parts) - 1))
        pages.append(path)

    executed = {paper: notebooks(paper, profile, results) for paper in summary.PAPERS}
    bar = tqdm(total=sum(map(len, executed.values())), desc="notebooks to HTML", unit="nb", disable=not progress)
    for paper in summary.PAPERS:
        rows = claims[claims["paper"] == paper]
        listing = []
        for notebook in executed[paper]:
            bar.update()
            heading = _heading(notebook)
            body = render_notebook(notebook)
            write(out / paper / f"{notebook.stem}.html", heading,
                  f'<p class="muted"><a href="index.html">{html.escape(paper)}</a> / {notebook.name} '
                  f"(executed at <code>{profile}</code>)</p>\n"
                  f'<div class="notebook">{body}</div>\n{_figures_beside(notebook, body, out / paper)}')
            listing.append(f'<li><a href="{notebook.stem}.html">{html.escape(heading)}</a></li>')
        shown = rows[["table", "claim", "paper says", "ours", "verdict"]].set_index("table")
        write(out / paper / "index.html", f"{paper}: {paper_title(paper)}",
              f"<h1>{html.escape(paper)}: {html.escape(paper_title(paper))}</h1>\n"
              f"<h2>Executed notebooks ({profile})</h2>\n<ul>{''.join(listing)}</ul>\n"
              f"<h2>Claims ({len(rows)})</h2>\n{_table(summary.counts(rows).loc[[paper]])}\n{_table(shown, verdict_column='verdict')}")

    bar.close()
    data = out / "data"
    data.mkdir()
    for figure in sorted(card.parent.glob("*.png")):
        shutil.copy2(figure, data / figure.name)
    import mistune

    text = card.read_text()
    unshown = [f"![{f.stem}]({f.name})" for f in sorted(data.glob("*.png")) if f"({f.name})" not in text]
    if unshown:  # the flow figures of each role: the card's stage writes them, the card does not show them
        text += "\n## Figures beside the card\n\n" + "\n\n".join(unshown) + "\n"
    write(data / "index.html", f"Dataset card ({profile})", mistune.create_markdown(plugins=["table"])(text))

    index_body = (f"<h1>The study at the <code>{profile}</code> profile</h1>\n"
                  "<p>Five papers on spatiotemporal ConvNets for action recognition, each claim tested by our own "
                  "runs. A verdict comes from the interval of the gap between our rows: <span class=reproduced>"
                  "reproduced</span> when it excludes 0 on the paper's side (an equality claim: within its stated "
                  "margin), <span class=contradicted>contradicted</span> when it excludes 0 on the other side, "
                  "<span class=inconclusive>inconclusive</span> when it covers 0, <span class=not-run>not run</span> "
                  "when the rows were not trained at this profile, <span class=not-run>not testable by our runs"
                  "</span> when the claim is about quoted numbers only.</p>\n"
                  f"{_table(summary.counts(claims), link={p: f'{p}/index.html' for p in summary.PAPERS})}\n<ul>"
                  + "".join(f'<li><a href="{p}/index.html">{p}</a>: {html.escape(paper_title(p))}</li>'
                            for p in summary.PAPERS)
                  + '</ul>\n<p>The synthetic data every run trains on: <a href="data/index.html">dataset card</a>.</p>')
    write(out / "index.html", f"replicate: the study ({profile})", index_body)
    return pages


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None, help="default: params.yaml's profile")
    ap.add_argument("--out", type=Path, default=SITE, help=f"default: {SITE.relative_to(SITE.parent.parent)}")
    args = ap.parse_args(argv)
    profile = args.profile or config.load_params()["profile"]
    pages = build(profile, args.out)
    print(f"{args.out}: {len(pages)} pages at {profile}; open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
