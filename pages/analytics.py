"""Analytics (客户分析): KPIs and charts of the customer base.

Every number comes from one DuckDB aggregate (``lib.customers.analytics.customer_analytics``),
over the same filters as the customers page (``ui.widgets`` keeps them across pages)
and only the rows the user may see. Each chart's data can be downloaded as CSV.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.customers import fields as F
from lib.accounts import permissions as perm
from lib.customers.analytics import customer_analytics
from lib.core.errors import CustomerMasterError
from lib.accounts.users import list_users
from ui import charts, nav
from ui import widgets as W
from ui.context import note_refusal, page_context
from ui.format import md_escape, money, money_short, month, number

_CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def render() -> None:
    ctx = page_context(perm.PAGE_ANALYTICS)
    W.keep_state_for(ctx.actor)
    t, lang = ctx.t, ctx.lang
    st.title(t("nav.analytics"), anchor=False)
    W.search_box(t)
    filters = W.filter_panel(ctx, "analytics")
    try:
        a = customer_analytics(ctx.db, ctx.actor, filters)
    except CustomerMasterError as exc:
        note_refusal(exc)
        st.error(md_escape(exc.translate(lang)), icon=":material/error:")
        return
    if perm.sees_only_own(ctx.actor, perm.ANALYTICS_VIEW):
        st.caption(":material/person: " + t("analytics.own_only"))

    k1, k2, k3, k4 = st.columns(4)
    k1.metric(t("analytics.kpi_total"), number(a.total, lang), border=True)
    k2.metric(t("analytics.kpi_new"), number(a.new_this_month, lang), border=True)
    k3.metric(t("analytics.kpi_active"), number(a.active, lang), border=True)
    k4.metric(t("analytics.kpi_credit"), money(a.credit_total, lang, decimals=0), border=True,
              help=f"{money(a.credit_total, lang)} ≈ {money_short(a.credit_total, lang)}")
    if a.total == 0:
        with st.container(border=True):
            st.info(t("analytics.empty"), icon=":material/insights:")
            if perm.can(ctx.actor, perm.CUSTOMER_CREATE):
                nav.page_link("new_customer", t, label=t("customers.empty_action"))
        return

    not_set = t("analytics.not_set")

    def labelled(f: F.Field) -> pd.DataFrame:
        if f.options:
            labels = W.ref_labels(ctx.db, f.options, lang)
        else:  # owner: the user's display name
            labels = {u.username: u.display_name or u.username for u in list_users(ctx.db)}
        df = pd.DataFrame(
            [(code or "", labels.get(code, code) if code else not_set, n) for code, n in a.counts.get(f.name, [])],
            columns=["code", "label", "n"])
        if f.options and len(labels) <= _SHORT_LIST:
            # Tiers A-D and sizes small to large read better in their own order than by count.
            order = list(labels)
            rank = df["code"].map(lambda c: order.index(c) if c in order else len(order))
            df = df.assign(_rank=rank).sort_values("_rank").drop(columns="_rank")
        return df

    # One card per declared dimension (a short list as columns, a long one as bars),
    # industry x tier after the tiers' neighbour, two cards per row; then the months.
    cards = []
    for f in F.dimension_fields():
        df = labelled(f)
        horizontal = not (f.options and len(W.ref_labels(ctx.db, f.options, lang)) <= _SHORT_LIST)
        title = t("analytics.by_field", label=_lower_first(f.label(lang), lang))
        cards.append((_height(len(df)) if horizontal else 320,
                      lambda h, title=title, df=df, name=f.name, hz=horizontal: _bar(ctx, title, df, name, h,
                                                                                      horizontal=hz)))
        if f.name == "size" and a.industry_tier:
            cards.append((_height(len({i for i, _, _ in a.industry_tier}), extra=40),
                          lambda h: _industry_tier(ctx, a, not_set, h)))
    for i in range(0, len(cards), 2):
        pair = cards[i:i + 2]
        height = max(h for h, _ in pair)
        for col, (_, draw) in zip(st.columns(2), pair):
            with col:
                draw(height)
    per_month = pd.DataFrame([(m.isoformat()[:7], month(m, lang), n) for m, n in a.per_month],
                             columns=["code", "label", "n"])
    _bar(ctx, t("analytics.per_month"), per_month, "per_month", 320)


_SHORT_LIST = 6  # a reference list this short is charted in its own order, as columns


def _lower_first(label: str, lang: str) -> str:
    """"Company size" -> "company size" inside an English title ("By company size")."""
    return label[:1].lower() + label[1:] if lang == "en" else label


def _height(bars: int, extra: int = 0) -> int:
    """Chart height for ``bars`` horizontal bars (at least a comfortable minimum)."""
    return max(320, 26 * bars + 60 + extra)


def _bar(ctx, title: str, df: pd.DataFrame, name: str, height: int, *, horizontal: bool = False) -> None:
    t = ctx.t
    with st.container(border=True):
        st.markdown(f"**{title}**")
        count = t("analytics.col_count")
        fig = charts.bar_figure(df["label"].tolist(), df["n"].tolist(), count_label=count, height=height,
                                horizontal=horizontal)
        st.plotly_chart(fig, config=_CHART_CONFIG, key=f"an_chart_{name}")
        _download(ctx, df.rename(columns={"code": t("analytics.col_code"), "label": title, "n": count}), name)


def _industry_tier(ctx, a, not_set: str, height: int) -> None:
    t, lang = ctx.t, ctx.lang
    industries = W.ref_labels(ctx.db, "industry", lang)
    tiers = W.ref_labels(ctx.db, "tier", lang)
    df = pd.DataFrame(
        [(i or "", industries.get(i, i) if i else not_set, r or "", tiers.get(r, r) if r else not_set, n)
         for i, r, n in a.industry_tier],
        columns=["industry_code", "industry", "tier_code", "tier", "n"])
    title = t("analytics.industry_tier")
    with st.container(border=True):
        st.markdown(f"**{title}**")
        count = t("analytics.col_count")
        fig = charts.stacked_bar_figure(list(zip(df["industry"], df["tier"], df["n"])),
                                        stack_order=[*tiers.values(), not_set], count_label=count, height=height)
        st.plotly_chart(fig, config=_CHART_CONFIG, key="an_chart_industry_tier")
        out = df.rename(columns={"industry_code": t("analytics.col_code"), "industry": F.label("industry", lang),
                                 "tier_code": t("analytics.col_tier_code"), "tier": F.label("tier", lang), "n": count})
        _download(ctx, out, "industry_tier")


def _download(ctx, df: pd.DataFrame, name: str) -> None:
    """The chart's data as a CSV file, written when the button is clicked (not on every
    run of the page: at 0.7 ms a file, the eight cost every run ~5 ms of server CPU)."""
    st.download_button(ctx.t("analytics.download"), lambda: charts.csv_bytes(df),
                       file_name=f"customers_{name}.csv", mime="text/csv", icon=":material/download:",
                       on_click="ignore", key=f"an_csv_{name}", type="tertiary")


nav.leave_if_run_directly(__name__)
