"""Scripts the browser may fetch ahead of the page that needs them.

Streamlit loads an element's script the first time a page shows such an element. The
analytics page's charts need Plotly's, ~4.6 MB, fetched and parsed on the first view
of the page in a browser: at 100k customers on an idle machine a first view took 2.3 s
to draw its charts, a later one 0.6-0.8 s. The home page, where people start, has the
browser import that script once the person has not clicked or typed for 2 s and the
browser is idle, for a user who may open analytics; that first view then took 1.3 s
(docs/benchmarks.md, "Plotly's script fetched ahead"). The module the browser imports
is the very file Streamlit's own loader imports later (the same address), so it is
fetched and run once.

The script's file name carries a hash that changes with Streamlit's version; it is read
from the installed package. If it is not found (a Streamlit that names it otherwise),
nothing is drawn and the page loads it when it needs it, as before.
"""
from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from lib.accounts import permissions as perm
from ui.format import script_data

_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"


@functools.cache
def plotly_script() -> str | None:
    """The path of Streamlit's Plotly chart script, relative to the app's address
    ("static/js/PlotlyChart.<hash>.js"), or None if the installed Streamlit has none."""
    found = sorted(_STATIC_JS.glob("PlotlyChart.*.js"))
    return f"static/js/{found[0].name}" if len(found) == 1 else None


QUIET_MS = 2000  # no click or key for this long before the import starts


def import_when_idle(paths: list[str]) -> str:
    """A script that imports each of ``paths`` (relative to the app's address, so also
    under a base path) once the person has not clicked or typed for ``QUIET_MS`` and
    the browser is idle: running Plotly's module takes the browser's main thread for
    ~0.7-0.9 s, and a click in that time waits. A failed import is left to the page
    that needs the module."""
    events = ["pointerdown", "keydown", "wheel"]
    return ("<script>(function(){var p=" + script_data(paths) + ";"
            f"var ev={script_data(events)},t=null;"
            "var go=function(){ev.forEach(function(e){removeEventListener(e,wait,true);});"
            "p.forEach(function(s){import(new URL(s,document.baseURI).href).catch(function(){});});};"
            "var idle=function(){if(window.requestIdleCallback){requestIdleCallback(go,{timeout:5000});}else{go();}};"
            f"var wait=function(){{clearTimeout(t);t=setTimeout(idle,{QUIET_MS});}};"
            "ev.forEach(function(e){addEventListener(e,wait,true);});wait();"
            "})();</script>")


def charts_ahead(actor) -> None:
    """Have the browser fetch the analytics page's chart script while this page is read,
    if ``actor`` may open that page (drawn at the end of the page: it shows nothing)."""
    path = plotly_script()
    if path is not None and perm.can(actor, perm.PAGE_ANALYTICS):
        st.html(import_when_idle([path]), unsafe_allow_javascript=True)
