"""The analytics charts, built as figure dicts (ui/charts.py), send the browser the same
figure that plotly express built before (issue 8 §3): same traces, bars, labels,
colours, stacking, hover, axes and legend. The px code below is the page's old code,
kept here as the reference."""
from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.io as pio
import plotly.tools
import pytest
import streamlit.elements.plotly_chart  # noqa: F401  registers Streamlit's template, as in the app

from ui import charts
from ui.format import plotly_text

MARKUP = "<b>Bold</b> & <i>x</i>"
LONG = "Information transmission, software and information technology services"


# -- the page's code before issue 8 (plotly express) -------------------------------------------
def _count_axis(counts) -> dict:
    top = int(counts.max()) if len(counts) else 0
    return {"tickformat": ",d", "rangemode": "tozero", **({"dtick": 1} if top <= 5 else {})}


def _bargap(bars: int) -> float:
    return min(0.8, max(0.15, 0.9 - 0.1 * bars))


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[:limit - 1].rstrip(" ,、") + "…"


def px_bar(df: pd.DataFrame, count: str, height: int, horizontal: bool):
    shown = df.assign(axis=df["label"].map(_short).map(plotly_text), label=df["label"].map(plotly_text))
    if horizontal:
        fig = px.bar(shown, x="n", y="axis", orientation="h", labels={"n": count, "axis": ""}, text="n",
                     custom_data=["label"])
        fig.update_yaxes(autorange="reversed", automargin=True)
        fig.update_xaxes(**_count_axis(df["n"]))
    else:
        fig = px.bar(shown, x="axis", y="n", labels={"n": count, "axis": ""}, text="n", custom_data=["label"])
        fig.update_xaxes(type="category")
        fig.update_yaxes(**_count_axis(df["n"]))
    fig.update_traces(hovertemplate="%{customdata[0]}: %{" + ("x" if horizontal else "y") + ":,}<extra></extra>",
                      texttemplate="%{text:,}", textposition="outside", cliponaxis=False)
    fig.update_layout(height=height, margin=dict(l=0, r=24, t=8, b=0), showlegend=False, separators=".,",
                      bargap=_bargap(len(df)))
    return fig


def px_industry_tier(df: pd.DataFrame, tiers: list[str], not_set: str, count: str, height: int):
    tier_order = [plotly_text(x) for x in (*tiers, not_set)]
    shown = df.assign(axis=df["industry"].map(_short).map(plotly_text),
                      industry=df["industry"].map(plotly_text), tier=df["tier"].map(plotly_text))
    fig = px.bar(shown, x="n", y="axis", color="tier", orientation="h", custom_data=["industry", "tier"],
                 category_orders={"tier": tier_order},
                 labels={"n": count, "axis": "", "tier": plotly_text("Tier")})
    fig.update_traces(hovertemplate="%{customdata[0]} · %{customdata[1]}: %{x:,}<extra></extra>")
    fig.update_yaxes(autorange="reversed", automargin=True,
                     categoryorder="array", categoryarray=list(dict.fromkeys(shown["axis"])))
    fig.update_xaxes(**_count_axis(df.groupby("industry")["n"].sum()))
    fig.update_layout(barmode="stack", height=height, margin=dict(l=0, r=8, t=8, b=0),
                      bargap=_bargap(df["industry"].nunique()),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, title=None))
    return fig


# -- what the browser receives --------------------------------------------------------------------
def _plain(value):
    """Plotly's base64 typed arrays as lists, every number as a float (px sends counts
    shown as text as floats; the dicts send the same integers)."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"} and set(value) <= {"dtype", "bdata", "shape"}:
            arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
            return [float(x) for x in arr]
        return {k: _plain(v) for k, v in value.items() if v != {}}  # px keeps an empty legend title
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def sent(fig) -> dict:
    """The figure as ``st.plotly_chart`` serialises it for the browser."""
    figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    return _plain(json.loads(pio.to_json(figure, validate=False)))


def bars(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "label", "n"])


BAR_CASES = {
    "tiers in their own order": bars([("A", "A 级", 3), ("B", "B 级", 0), ("C", "C", 12), ("", "未设置", 1)]),
    "one bar": bars([("x", "Only", 1)]),
    "markup and long labels": bars([("o1", MARKUP, 1_234_567), ("o2", LONG, 5), ("o3", "销售 2", 5)]),
    "many months": bars([(f"2025-{m:02d}", f"2025年{m}月", 100 * m) for m in range(1, 13)]),
}


@pytest.mark.parametrize("horizontal", [False, True])
@pytest.mark.parametrize("case", list(BAR_CASES))
def test_a_bar_chart_is_the_figure_px_built(case, horizontal):
    df = BAR_CASES[case]
    old = sent(px_bar(df, "Count", 360, horizontal))
    new = sent(charts.bar_figure(df["label"].tolist(), df["n"].tolist(), count_label="Count", height=360,
                                 horizontal=horizontal))
    assert new == old
    # What that means, said plainly: user text escaped, counts on the bars, the full label on hover.
    [trace] = new["data"]
    labels = trace["y"] if horizontal else trace["x"]
    assert all("<" not in x for x in labels) and [c[0] for c in trace["customdata"]] == [
        plotly_text(x) for x in df["label"]]
    assert trace["text"] == [float(n) for n in df["n"]]


TIERS = ["A 级", "B 级", "C 级", "D 级"]
STACK_CASES = {
    "all tiers": [("Manufacturing", "A 级", 2), ("Manufacturing", "B 级", 1), ("Retail", "C 级", 4),
                  ("Retail", "D 级", 7), ("Retail", "未设置", 1)],
    "a missing tier keeps the colours": [("I1", "B 级", 2), ("I1", "未设置", 1), ("I2", "B 级", 4),
                                         (MARKUP, "C 级", 1)],
    "a tier not in the list": [("I1", "Z <old>", 3), ("I1", "A 级", 1), (LONG, "A 级", 9)],
    "one bar": [("未设置", "未设置", 1)],
}


@pytest.mark.parametrize("case", list(STACK_CASES))
def test_the_industry_by_tier_chart_is_the_figure_px_built(case):
    rows = STACK_CASES[case]
    df = pd.DataFrame([(i, "", t, "", n) for i, t, n in rows],
                      columns=["industry", "industry_code", "tier", "tier_code", "n"])
    old = sent(px_industry_tier(df, TIERS, "未设置", "Count", 400))
    new = sent(charts.stacked_bar_figure(rows, stack_order=[*TIERS, "未设置"], count_label="Count", height=400))
    assert new == old
    assert new["layout"]["barmode"] == "stack"
    assert [t["name"] for t in new["data"]] == [
        plotly_text(t) for t in dict.fromkeys([*TIERS, "未设置", *(t for _, t, _ in rows)]) if t in {r[1] for r in rows}]


# -- the charts' CSV downloads ------------------------------------------------------------------
def test_chart_csv_neutralises_every_formula_trigger_and_keeps_counts_numbers():
    import codecs
    import csv
    import io

    labels = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd", "制造业", "a=b"]
    df = pd.DataFrame({"code": ["C"] * len(labels), "label": labels, "n": [-5, *range(1, len(labels))]})
    data = charts.csv_bytes(df.rename(columns={"label": "=title"}))
    assert data.startswith(codecs.BOM_UTF8) and data.count(codecs.BOM_UTF8) == 1
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["code", "'=title", "n"]
    assert [r[1] for r in rows[1:]] == ["'" + x for x in labels[:6]] + ["制造业", "a=b"]
    assert [r[2] for r in rows[1:]] == [str(n) for n in df["n"]]  # a count is a number, never escaped
