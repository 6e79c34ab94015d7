"""The analytics page's bar charts, written as plain Plotly figure dicts.

They used to come from ``plotly.express``, which builds each figure through Plotly's
validating object tree: ~190 ms in Python for the page's eight charts (more under load,
and every other session waits on the GIL meanwhile). A dict of the same figure costs
~0.1 ms to build; ``st.plotly_chart`` still validates it once (Figure(**dict)), ~2 ms
a chart (``bench/bench_analytics.py --figures``). The dicts are exactly what ``px.bar`` produced for these charts (the default
template's colours, traces, axes, hover, stacking, legend; tests/test_charts.py
compares them with px's output), so the page looks as it did.

Every label is text people typed (list entries, display names): it goes through
``plotly_text`` here, once, because Plotly renders HTML in labels, legends and hovers,
and through ``formula_safe`` in a chart's CSV (``csv_bytes``), because a spreadsheet
runs a cell starting with ``=`` as a formula.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.io as pio

from lib.core.text import formula_safe
from ui.format import plotly_text


def short_label(label: str, limit: int = 24) -> str:
    """An axis label short enough to leave room for the bars (the hover and the CSV
    keep the full one): "Information transmission, software an…"."""
    return label if len(label) <= limit else label[:limit - 1].rstrip(" ,、") + "…"


def count_axis(counts: Iterable[int]) -> dict:
    """Axis settings for counts: whole numbers with thousands separators."""
    top = max((int(n) for n in counts), default=0)
    return {"tickformat": ",d", "rangemode": "tozero", **({"dtick": 1} if top <= 5 else {})}


def bargap(bars: int) -> float:
    # A lone bar should not fill the whole card.
    return min(0.8, max(0.15, 0.9 - 0.1 * bars))


def colorway() -> tuple[str, ...]:
    """The colours px.bar would use: the default template's colorway (Streamlit's theme
    registers placeholders the browser turns into the app theme's colours)."""
    name = pio.templates.default or "plotly"
    template = pio.templates[name.split("+")[0]]
    return tuple(template.layout.colorway or ()) or ("#1F77B4",)


def _axes(x_title: str, y_title: str) -> tuple[dict, dict]:
    return ({"anchor": "y", "domain": [0.0, 1.0], "title": {"text": x_title}},
            {"anchor": "x", "domain": [0.0, 1.0], "title": {"text": y_title}})


def bar_figure(labels: Sequence[str], counts: Sequence[int], *, count_label: str, height: int,
               horizontal: bool) -> dict:
    """One bar per label with its count written at the bar's end; the axis shows the
    shortened label, the hover the full one. Horizontal bars run top to bottom in the
    order given; columns left to right."""
    counts = [int(n) for n in counts]
    # The bar's text as numbers, as px sent it: a list of numbers would be validated
    # into strings, which plotly.js formats with "%{text:,}" only by coercing them back.
    full = [plotly_text(x) for x in labels]
    axis = [plotly_text(short_label(x)) for x in labels]
    trace = {
        "customdata": [[x] for x in full],
        "hovertemplate": "%{customdata[0]}: %{" + ("x" if horizontal else "y") + ":,}<extra></extra>",
        "legendgroup": "", "marker": {"color": colorway()[0], "pattern": {"shape": ""}}, "name": "",
        "orientation": "h" if horizontal else "v", "showlegend": False, "text": np.asarray(counts, dtype=float), "textposition": "outside",
        "x": counts if horizontal else axis, "xaxis": "x", "y": axis if horizontal else counts, "yaxis": "y",
        "type": "bar", "cliponaxis": False, "texttemplate": "%{text:,}",
    }
    if horizontal:
        xaxis, yaxis = _axes(count_label, "")
        xaxis.update(count_axis(counts))
        yaxis.update(autorange="reversed", automargin=True)
    else:
        xaxis, yaxis = _axes("", count_label)
        xaxis.update(type="category")
        yaxis.update(count_axis(counts))
    layout = {"xaxis": xaxis, "yaxis": yaxis, "legend": {"tracegroupgap": 0},
              "margin": {"t": 8, "l": 0, "r": 24, "b": 0}, "barmode": "relative", "height": height,
              "showlegend": False, "separators": ".,", "bargap": bargap(len(counts))}
    return {"data": [trace], "layout": layout}


def stacked_bar_figure(rows: Sequence[tuple[str, str, int]], *, stack_order: Sequence[str], count_label: str,
                       height: int) -> dict:
    """Horizontal bars, one per bar label in order of first appearance, each stacked by
    its parts ``(bar label, part label, count)``. Parts are coloured and stacked in
    ``stack_order`` (parts not in it follow in order of appearance), a legend above."""
    rows = [(bar, plotly_text(bar), plotly_text(short_label(bar)), plotly_text(part), int(n))
            for bar, part, n in rows]
    order = list(dict.fromkeys([plotly_text(p) for p in stack_order] + [part for *_, part, _ in rows]))
    colours = colorway()
    traces = []
    for i, part in enumerate(order):
        mine = [r for r in rows if r[3] == part]
        if not mine:  # as in px, an absent part keeps its colour: the next part's stays its own
            continue
        traces.append({
            "customdata": [[full, part] for _, full, _, _, _ in mine],
            "hovertemplate": "%{customdata[0]} · %{customdata[1]}: %{x:,}<extra></extra>",
            "legendgroup": part, "marker": {"color": colours[i % len(colours)], "pattern": {"shape": ""}},
            "name": part, "orientation": "h", "showlegend": True, "textposition": "auto",
            "x": [n for *_, n in mine], "xaxis": "x", "y": [axis for _, _, axis, _, _ in mine], "yaxis": "y",
            "type": "bar",
        })
    totals: dict[str, int] = {}
    for bar, _, _, _, n in rows:
        totals[bar] = totals.get(bar, 0) + n
    xaxis, yaxis = _axes(count_label, "")
    xaxis.update(count_axis(totals.values()))
    yaxis.update(autorange="reversed", automargin=True, categoryorder="array",
                 categoryarray=list(dict.fromkeys(axis for _, _, axis, _, _ in rows)))
    layout = {"xaxis": xaxis, "yaxis": yaxis,
              "legend": {"tracegroupgap": 0, "orientation": "h", "yanchor": "bottom", "y": 1.0,
                         "xanchor": "left", "x": 0},
              "margin": {"t": 8, "l": 0, "r": 8, "b": 0}, "barmode": "stack", "height": height,
              "bargap": bargap(len(totals))}
    return {"data": traces, "layout": layout}


def csv_bytes(df: pd.DataFrame) -> bytes:
    """A chart's data as a CSV download: UTF-8 with a BOM (Excel opens Chinese CSV
    correctly only with it), every text cell and header through ``formula_safe`` (a
    list entry or a display name typed as ``=HYPERLINK(…)`` stays text); counts stay numbers.
    Lines end in CRLF (RFC 4180): pandas quotes a cell holding a line-end character only
    if it is part of the line terminator, so with its default "\n" a CR split the row."""
    safe = df.rename(columns=lambda c: formula_safe(str(c))).map(formula_safe)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
