"""The report as one self-contained HTML page: leaderboard (with consistency beside success), a plot,
pass@k (table and plot) with several samples, scorer agreement, and per item evidence (prompt, first
and expected frames, every model's video with each scorer's verdict)."""

from __future__ import annotations

import base64
import io
import json
import math
import os
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PIL import Image

import vmevalkit
from vmevalkit.errors import UserError
from vmevalkit.images import load_rgb
from vmevalkit.questions import FINAL_FRAME, FIRST_FRAME, PROMPT
from vmevalkit.report.leaderboard import ALL, ItemResult, Leaderboard
from vmevalkit.report.render import (
    PASS_NOTE,
    column_text,
    notes_text,
    pass_columns,
    pass_text,
    policy_text,
    row_label,
    table_columns,
)
from vmevalkit.results import LAST_FRAME, QUESTION_DIR

THUMBNAIL_SIDE = 320
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}tr.control td{color:#666;font-style:italic;background:#fafafa}
.question{border-top:2px solid #ddd;margin-top:1.5em;padding-top:.5em}
.frames{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
figure{margin:0;width:320px}figure img,figure video{width:320px;height:240px;object-fit:contain;background:#f4f4f4;border:1px solid #ccc}
.badge{display:inline-block;padding:1px 6px;margin:2px;border-radius:3px;font-size:.85em}
.yes{background:#d4f4d4}.no{background:#f8d4d4}.err{background:#eee;color:#a00}
.kept{background:#dfe9f8}.changed{background:#f8e6c8}
.prompt{white-space:pre-wrap;background:#f8f8f8;padding:.5em}
"""


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _thumbnail(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        image = load_rgb(path)
    except UserError:
        return None
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    return _data_url("image/jpeg", buf.getvalue())


def plot_png(board: Leaderboard) -> bytes:
    """Success rates with their 95% intervals: one panel per column (all tasks, then each task)."""
    from matplotlib.figure import Figure

    columns = [ALL, *board.tasks]
    rows = board.rows
    per_row = min(len(columns), 4)
    panel_rows = math.ceil(len(columns) / per_row)
    fig = Figure(figsize=(3.2 * per_row + 1.5, (0.35 * len(rows) + 1.0) * panel_rows), dpi=100,
                 layout="constrained")
    axes = fig.subplots(panel_rows, per_row, squeeze=False).ravel()
    for ax, column in zip(axes, columns, strict=False):  # spare panels are switched off below
        cells = [board.cells[(m, column)] for m in rows]
        rates = [0.0 if math.isnan(c.rate) else c.rate * 100 for c in cells]
        err = [[0.0 if math.isnan(c.rate) else (c.rate - c.low) * 100 for c in cells],
               [0.0 if math.isnan(c.rate) else (c.high - c.rate) * 100 for c in cells]]
        colours = ["#9e9e9e" if m in board.controls else "#3b78c2" for m in rows]
        y = list(range(len(rows)))
        ax.barh(y, rates, xerr=err, color=colours, capsize=3)
        ax.set_yticks(y, [row_label(board, m) for m in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("success %")
        ax.set_title(column)
    for ax in axes[len(columns):]:
        ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def pass_plot_png(board: Leaderboard) -> bytes:
    """pass@k against k (1 to the largest k reported) with 95% intervals: one panel per column, one line per model."""
    from matplotlib.figure import Figure

    columns = pass_columns(board)
    ks = list(range(1, max(board.pass_ks) + 1))
    per_row = min(len(columns), 4)
    panel_rows = math.ceil(len(columns) / per_row)
    fig = Figure(figsize=(3.6 * per_row + 2.5, 3.0 * panel_rows), dpi=100, layout="constrained")
    axes = fig.subplots(panel_rows, per_row, squeeze=False).ravel()
    for ax, column in zip(axes, columns, strict=False):  # spare panels are switched off below
        for model in board.rows:
            points = [board.pass_at[(model, column, k)] for k in ks]
            shown = [(k, p) for k, p in zip(ks, points) if p.questions]
            if not shown:
                continue
            x = [k for k, _ in shown]
            y = [p.value * 100 for _, p in shown]
            err = [[(p.value - p.low) * 100 for _, p in shown], [(p.high - p.value) * 100 for _, p in shown]]
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=row_label(board, model),
                        linestyle="--" if model in board.controls else "-")
        ax.set_xticks(ks)
        ax.set_ylim(0, 100)
        ax.set_xlabel("k")
        ax.set_ylabel("pass@k %")
        ax.set_title(column)
    axes[0].legend(fontsize="small")
    for ax in axes[len(columns):]:
        ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _badges(item: ItemResult) -> str:
    out = []
    for name, row in sorted(item.rows.items()):
        tip = escape(json.dumps({k: row.get(k) for k in ("score", "details", "error", "scored_at")}, default=str)[:600])
        if row.get("correct") is None:
            out.append(f'<span class="badge err" title="{tip}">{escape(name)}: error</span>')
        else:
            mark = "correct" if row["correct"] else "wrong"
            value = f" {row['score']:.2f}" if isinstance(row.get("score"), (int, float)) else ""
            chosen = " ★" if row is item.chosen else ""
            out.append(f'<span class="badge {"yes" if row["correct"] else "no"}" title="{tip}" data-scorer="'
                       f'{escape(name)}">{escape(name)}: {mark}{value}{chosen}</span>')
    if item.consistent is not None:
        out.append(f'<span class="badge {"kept" if item.consistent else "changed"}" data-consistent='
                   f'"{str(item.consistent).lower()}">{"scene kept" if item.consistent else "scene changed"}</span>')
    if item.video is None:
        out.append('<span class="badge err">no video</span>')
    elif not item.rows:
        out.append('<span class="badge err">not scored</span>')
    return " ".join(out)


def _video_sources(board: Leaderboard, out_dir: Path, embed_limit_mb: float) -> tuple[dict[str, str], bool]:
    """Each video's src: data URLs when all of them fit in `embed_limit_mb`, else URLs relative to the page
    (percent-encoded, so a folder name with a quote, '#' or a space neither breaks the link nor the page)."""
    videos = [i.video for i in board.items if i.video is not None]
    embed = sum(v.stat().st_size for v in videos) <= embed_limit_mb * 2**20
    if embed:
        return {str(v): _data_url("video/mp4", v.read_bytes()) for v in videos}, True
    return {str(v): quote(Path(os.path.relpath(v, out_dir)).as_posix()) for v in videos}, False


def _question_section(key: str, items: list[ItemResult], sources: dict[str, str], board: Leaderboard) -> str:
    folder = items[0].folder / QUESTION_DIR
    prompt = (folder / PROMPT).read_text(encoding="utf-8", errors="replace").strip() if (folder / PROMPT).is_file() \
        else "(prompt missing)"
    figures = []
    for label, name in (("first frame", FIRST_FRAME), ("expected final frame", FINAL_FRAME)):
        src = _thumbnail(folder / name)
        figures.append(f'<figure><img alt="{label}" src="{src}"><figcaption>{label}</figcaption></figure>' if src
                       else f"<figure><figcaption>no {label}</figcaption></figure>")
    order = {m: i for i, m in enumerate(board.rows)}
    for item in sorted(items, key=lambda i: (order.get(i.model, len(order)), i.sample)):
        media = ""
        if item.video is not None:
            poster = _thumbnail(item.folder / LAST_FRAME)
            poster_attr = f' poster="{poster}"' if poster else ""
            media = (f'<video controls muted loop playsinline preload="metadata"{poster_attr}'
                     f' src="{sources[str(item.video)]}"></video>')
        sample = f" sample {item.sample}" if board.samples > 1 else ""
        figures.append(f'<figure class="item" data-model="{escape(item.model)}" data-sample="{item.sample}">{media}'
                       f"<figcaption><b>{escape(row_label(board, item.model))}</b>{sample}<br>{_badges(item)}"
                       "</figcaption></figure>")
    return (f'<section class="question" id="{escape(key)}"><h3>{escape(key)}</h3>'
            f'<div class="prompt">{escape(prompt)}</div><div class="frames">{"".join(figures)}</div></section>')


def _pass_table(board: Leaderboard) -> str:
    columns = pass_columns(board)
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        f'<tr class="{"control" if m in board.controls else "model"}"><td>{escape(row_label(board, m))}</td>'
        f"<td>{k}</td>" + "".join(f"<td>{escape(pass_text(board.pass_at[(m, c, k)]))}</td>" for c in columns) + "</tr>"
        for m in board.rows for k in board.pass_ks)
    return (f"<h2>pass@k</h2><p>{escape(PASS_NOTE)}</p><table id=\"pass-at-k\"><thead><tr><th>model</th><th>k</th>"
            f"{head}</tr></thead><tbody>{body}</tbody></table>")


def html_page(board: Leaderboard, out_dir: Path, settings: dict[str, Any], embed_limit_mb: float = 64.0,
              pass_plot: bytes | None = None) -> str:
    """The page; `pass_plot` is the pass@k plot's PNG when pass@k is reported."""
    columns = table_columns(board)
    head = "".join(f"<th>{escape(h)}</th>" for h, _ in columns)
    body = "".join(
        f'<tr class="{"control" if m in board.controls else "model"}"><td>{escape(row_label(board, m))}</td>'
        + "".join(f"<td>{escape(column_text(board, m, h, t))}</td>" for h, t in columns) + "</tr>"
        for m in board.rows)
    notes = notes_text(board)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>vmevalkit report: {escape(board.experiment)}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(board.experiment)}</h1>",
             f"<p>Success rate [95% bootstrap interval] correct/judged; {escape(policy_text(board))}. Items without a "
             f"verdict are shown as unscored and left out of the rate. Each video's poster is its last frame; "
             f"★ marks the verdict that counts.{' ' + escape(notes) if notes else ''}</p><p><small>vmevalkit "
             f"{vmevalkit.__version__}; "
             f"{escape(json.dumps(settings, sort_keys=True))}</small></p>",
             f'<table id="leaderboard"><thead><tr><th>model</th>{head}</tr></thead><tbody>{body}</tbody></table>']
    if board.rows:
        parts.append(f'<img id="plot" alt="success rates with 95% intervals" '
                     f'src="{_data_url("image/png", plot_png(board))}">')
    if board.pass_ks:
        parts.append(_pass_table(board))
        if pass_plot is not None:
            parts.append(f'<img id="pass-plot" alt="pass@k against k with 95% intervals" '
                         f'src="{_data_url("image/png", pass_plot)}">')
    if board.agreements:
        rows = "".join(
            f"<tr><td>{escape(a.first)} vs {escape(a.second)}</td><td>{a.items}</td><td>{a.rate:.1%}</td>"
            f"<td>{'—' if math.isnan(a.kappa) else f'{a.kappa:.2f}'}</td><td>{a.both_correct}</td><td>{a.both_wrong}"
            f"</td><td>{a.only_first}</td><td>{a.only_second}</td></tr>" for a in board.agreements)
        parts.append('<h2>Scorer agreement</h2><table id="agreement"><tr><th>scorers</th><th>items</th>'
                     "<th>agreement</th><th>Cohen's kappa</th><th>both correct</th><th>both wrong</th>"
                     f"<th>only first</th><th>only second</th></tr>{rows}</table>")
    sources, embedded = _video_sources(board, out_dir, embed_limit_mb)
    parts.append("<h2>Items</h2>" + ("" if embedded else
                 "<p>Videos are linked, not embedded (over the size limit): keep this page beside the experiment.</p>"))
    by_question: dict[str, list[ItemResult]] = {}
    for item in board.items:
        by_question.setdefault(item.question, []).append(item)
    parts += [_question_section(key, items, sources, board) for key, items in sorted(by_question.items())]
    parts.append("</body></html>")
    return "\n".join(parts)
