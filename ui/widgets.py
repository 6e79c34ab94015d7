"""Widgets built from the field declaration (``lib.customers.fields``), shared by the pages.

* ``form_input``: one entry-form input per field, drawn by its kind (``ui.kinds``).
* ``grid_column_config``: the customers grid's ``column_config``, each field's column
  from its kind (select boxes over the reference lists with codes stored and labels
  shown, a number column for money, …), read-only code and timestamps, 🔒 on columns
  the user may not change.
* ``keep_state_for``: drops the pages' remembered state when another user logs in.
* ``paged`` / ``pager``: one server-side page of a list (limit/offset) and its
  previous/next buttons.
* ``search_box`` / ``filter_panel`` / ``current_filters``: the filters the customers
  and analytics pages share; the list filters are the fields declared ``filter=True``. Their values live in one plain session-state dict
  (``FILTERS_KEY``), because Streamlit forgets a widget's value as soon as a page that
  does not draw it runs — so a search made on the customers page still applies when the
  user opens analytics, and the other way round.
"""
from __future__ import annotations

from dataclasses import fields as dc_fields
from typing import Any, Callable, Iterable, Mapping

import streamlit as st

from lib.customers import fields as F
from lib.accounts import permissions as perm
from lib.core.errors import CustomerMasterError, FieldProblem, ValidationError
from lib.customers.customer import may_set_field
from lib.customers.search import ARCHIVED_CHOICES, PAGE_SIZES, SORTS, CustomerFilters, list_filters
from ui import kinds as K
from ui import nav
from ui.context import note_refusal
from ui.format import md_escape, number

FILTERS_KEY = "cm_filters"  # the shared filter values (a plain dict, not a widget key)
_FILTER_WIDGET = "flt_"  # widget keys: flt_text, flt_industry, …
FILTER_PANEL = "flt_panel_"  # + the page's name: the filter expander's key on that page

AUTO_SORT = "auto"  # relevance with a search text, else most recently updated (lib.customers.search)


# -- per-user page state ------------------------------------------------------------------------
STATE_OWNER_KEY = "cm_page_state_owner"
PAGE_STATE_PREFIXES = ("cu_", "nc_", "an_", "cf_", "hm_", "im_", "dp_", _FILTER_WIDGET)


def keep_state_for(actor) -> None:
    """Forget the pages' remembered state (grid rows, form input, duplicate matches,
    filters) when another user — or the same user with another role — is logged in to
    this browser session: one user's rows must never reach the next."""
    owner = (actor.username, actor.role)
    if st.session_state.get(STATE_OWNER_KEY) == owner:
        return
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and (key.startswith(PAGE_STATE_PREFIXES) or key == FILTERS_KEY):
            del st.session_state[key]
    st.session_state[STATE_OWNER_KEY] = owner


# -- reference lists (ui.kinds has them; re-exported for the pages) -------------------------
item_label, ref_labels, ref_codes, usernames = K.item_label, K.ref_labels, K.ref_codes, K.usernames


# -- permissions as the UI sees them ----------------------------------------------------------
def may_write_field(actor, f: F.Field, record: Mapping | None = None) -> bool:
    """May the actor set this field (on ``record``)? The service enforces the same rule;
    the UI only uses it to lock inputs and columns."""
    return may_set_field(actor, f, record)


# -- the entry form ---------------------------------------------------------------------------
def form_input(f: F.Field, *, lang: str, db, key: str, disabled: bool = False, t=None) -> None:
    """One input of the entry form for field ``f`` (drawn by its kind, ``ui.kinds``);
    its value is ``st.session_state[key]``.

    Choice fields store the reference code and show the label in ``lang``. Values
    persist for the session, so a user who opens a possible duplicate on the customers
    page finds the half-entered customer again when coming back."""
    label = f.label(lang) + (" *" if f.required else "")
    K.ui_kind(f).form_input(f, K.Widget(label=label, help=f.help(lang) or None, key=key, disabled=disabled, db=db,
                                        lang=lang, placeholder_choose=t("form.choose") if t else ""))


def show_problems(problems: Iterable[FieldProblem], lang: str) -> None:
    """Errors of one field, in the user's language, right below its input."""
    for p in problems:
        st.error(md_escape(p.translate(lang)), icon=":material/error:")


# -- the grid --------------------------------------------------------------------------------
# Columns the page adds around the declared fields.
ROW_STATE = "_state"  # 🔒 / ⚠️ / ✅ per row
ROW_SELECT = "_select"  # selection for archive / restore
ROW_PROBLEM = "_problem"  # what is wrong with the row's last save
ROW_OPEN = "_open"  # a link to the customer's page


def grid_editable_fields(actor) -> set[str]:
    """Fields this actor may change in the grid (for records it may update at all)."""
    if not perm.can(actor, perm.CUSTOMER_UPDATE):
        return set()
    return {f.name for f in F.grid_fields() if f.grid_editable and may_write_field(actor, f)}


def grid_column_order() -> list[str]:
    return [ROW_STATE, ROW_SELECT, "code", ROW_OPEN, *(f.name for f in F.grid_fields()), ROW_PROBLEM,
            *(c.name for c in F.SYSTEM_COLUMNS if c.name != "code")]


def grid_column_config(*, lang: str, db, editable: set[str], can_select: bool, t) -> dict[str, Any]:
    """``column_config`` for the customers grid, from the field declaration.

    Select boxes hold codes and show labels (``format_func``); columns the actor may not
    change are disabled and marked 🔒 in their header."""
    cc = st.column_config
    config: dict[str, Any] = {
        ROW_STATE: cc.TextColumn("", width=36, disabled=True, help=t("grid.state_help"), pinned=True),
        ROW_SELECT: cc.CheckboxColumn("✓", width=36, disabled=not can_select, help=t("grid.select_help"),
                                      pinned=True),
        ROW_PROBLEM: cc.TextColumn(t("grid.problem"), width="large", disabled=True),
        ROW_OPEN: cc.LinkColumn(t("grid.open"), display_text=":material/open_in_new:", width=60, disabled=True,
                                help=t("grid.open_help")),
    }
    for f in F.grid_fields():
        locked = f.name not in editable
        label = ("🔒 " if locked else "") + f.label(lang) + (" *" if f.required else "")
        help_text = f.help(lang) or None
        if locked:
            help_text = t("grid.locked_column") + (f" — {help_text}" if help_text else "")
        common = dict(label=label, help=help_text, disabled=locked, required=f.required or None)
        config[f.name] = K.ui_kind(f).column(f, common, db, lang)
    config["code"] = cc.TextColumn(F.label("code", lang), disabled=True, width=120, pinned=True)
    dt_format = "YYYY-MM-DD HH:mm" if lang == "zh" else "D MMM YYYY, HH:mm"
    for c in F.SYSTEM_COLUMNS:
        if c.name == "code":
            continue
        if c.kind == "timestamp":
            config[c.name] = cc.DatetimeColumn(c.label(lang), format=dt_format, disabled=True,
                                               timezone="Asia/Shanghai", width="medium")
        elif c.kind == "bool":
            config[c.name] = cc.CheckboxColumn(c.label(lang), disabled=True, width="small")
        else:
            config[c.name] = cc.TextColumn(c.label(lang), disabled=True, width="small")
    return config


# -- shared filters ---------------------------------------------------------------------------
_FILTER_DEFAULTS: dict[str, Any] = {
    "text": "", "not_reviewed_days": None, "archived": "active", "sort": "auto", "page_size": PAGE_SIZES[0],
}


def _default(name: str) -> Any:
    """A filter's default: "any" ([]) for the declared list filters."""
    return _FILTER_DEFAULTS.get(name, [])


def _stored() -> dict[str, Any]:
    if FILTERS_KEY not in st.session_state:
        st.session_state[FILTERS_KEY] = dict(_FILTER_DEFAULTS)
    return st.session_state[FILTERS_KEY]


def _seed(name: str) -> str:
    """Widget key for filter ``name``, seeded from the shared dict when the widget is new
    on this page (Streamlit dropped its state when another page ran)."""
    key = _FILTER_WIDGET + name
    if key not in st.session_state:
        st.session_state[key] = _stored().get(name, _default(name))
    return key


def _keep(name: str) -> None:
    _stored()[name] = st.session_state.get(_FILTER_WIDGET + name, _default(name))


def set_search_text(text: str) -> None:
    """Start a search for ``text`` (e.g. a link from the entry form); call before the
    search box is drawn."""
    _stored()["text"] = text
    st.session_state[_FILTER_WIDGET + "text"] = text


def clear_filters() -> None:
    """Back to "all active customers" (keeps sort and page size)."""
    stored = _stored()
    for name in (*_FILTER_DEFAULTS, *list_filters()):
        if name in ("sort", "page_size"):
            continue
        stored[name] = _default(name)
        st.session_state[_FILTER_WIDGET + name] = stored[name]


def search_box(t) -> str:
    key = _seed("text")
    st.text_input(t("search.label"), key=key, placeholder=t("search.placeholder"), icon=":material/search:",
                  max_chars=200)
    _keep("text")
    return st.session_state[key]


def sort_and_size(t) -> tuple[str | None, int]:
    """Sort order and page size, side by side."""
    c1, c2 = st.columns([3, 1])
    with c1:
        key = _seed("sort")
        options = [AUTO_SORT, *SORTS]
        if st.session_state[key] not in options:
            st.session_state[key] = AUTO_SORT
        labels = {AUTO_SORT: t("sort.auto"), **{s: t("sort." + s) for s in SORTS}}
        st.selectbox(t("search.sort"), options, key=key, format_func=lambda s: labels[s])
        _keep("sort")
    with c2:
        key = _seed("page_size")
        if st.session_state[key] not in PAGE_SIZES:
            st.session_state[key] = PAGE_SIZES[0]
        st.selectbox(t("search.page_size"), PAGE_SIZES, key=key)
        _keep("page_size")
    sort = _stored()["sort"]
    return (None if sort == AUTO_SORT else sort), _stored()["page_size"]


def filter_panel(ctx, page: str) -> CustomerFilters:
    """Filters in an expander: list filters, "not reviewed for N days", archived. The
    filters apply whether the panel is open or not (``current_filters``); they are the
    same on every page, the panel's open state is each page's (``page``: its name)."""
    t, lang, db = ctx.t, ctx.lang, ctx.db
    active = active_filter_count()
    # The panel's inputs are drawn only while it is open (a click on its title reruns
    # the page): closed, they were ~20 of the ~67 elements of each run of the customers
    # page, and of analytics'. Its title and ``expanded`` are part of its identity, so
    # both stay the same whatever the filters: a changed identity would make a new
    # panel, in its default state, while the user is choosing in it. It opens by
    # itself where a page is opened with filters set, as before (a widget's state ends
    # when another page runs, hence a key per page), and the count of filters set is
    # said under it while it is closed.
    key = FILTER_PANEL + page
    st.session_state.setdefault(key, bool(active))
    panel = st.expander(t("filters.title"), icon=":material/filter_list:", key=key, on_change="rerun")
    if not panel.open:
        # A choice in the panel that reaches the server with another page's run (sent
        # along with a click elsewhere) counts all the same.
        for name in (*list_filters(), "not_reviewed_days", "archived"):
            if _FILTER_WIDGET + name in st.session_state:
                _keep(name)
        if active:
            st.caption(t("filters.active", n=active))
        return current_filters()
    with panel:
        # A salesperson sees only their own customers: a filter by owner would say nothing.
        shown = [f for f in F.filter_fields() if not (f.kind == "user" and perm.sees_only_own(ctx.actor))]
        cols = st.columns(4)
        for i, f in enumerate(shown):
            with cols[i % 4]:
                key = _seed(f.name)
                options, fmt = K.ui_kind(f).filter_options(f, db, lang)
                st.session_state[key] = [v for v in st.session_state[key] or [] if v in options]
                st.multiselect(f.label(lang), options, key=key, format_func=fmt, placeholder=t("filters.any"))
                _keep(f.name)
        c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
        with c1:
            key = _seed("not_reviewed_days")
            st.number_input(t("filters.not_reviewed"), key=key, min_value=0, max_value=36500, step=30,
                            placeholder=t("filters.not_reviewed_placeholder"), help=t("filters.not_reviewed_help"))
            _keep("not_reviewed_days")
        with c2:
            key = _seed("archived")
            labels = {a: t("filters.archived." + a) for a in ARCHIVED_CHOICES}
            st.radio(t("filters.archived"), ARCHIVED_CHOICES, key=key, horizontal=True,
                     format_func=lambda a: labels[a])
            _keep("archived")
        with c3:
            st.button(t("filters.clear"), on_click=clear_filters, icon=":material/filter_list_off:",
                      key="flt_clear_btn", width="stretch")
    return current_filters()


def active_filter_count() -> int:
    """How many filters narrow the search, as the user has just set them: a widget's
    value (already updated for the run its change started) before the stored copy,
    which ``_keep`` updates only once the widget is drawn below the panel's title."""
    stored = _stored()

    def now(name: str) -> Any:
        key = _FILTER_WIDGET + name
        return st.session_state[key] if key in st.session_state else stored.get(name, _default(name))

    return sum(bool(now(n)) for n in list_filters()) + (now("not_reviewed_days") is not None) \
        + (now("archived") != "active")


def current_filters() -> CustomerFilters:
    """The shared filters as ``lib.customers.search.CustomerFilters``."""
    stored = _stored()
    known = {f.name for f in dc_fields(CustomerFilters)} - {"choices"}
    values: dict[str, Any] = {name: stored[name] for name in known if name in stored}
    values["choices"] = {name: tuple(stored.get(name) or ()) for name in list_filters() if stored.get(name)}
    if values.get("not_reviewed_days") is not None:
        values["not_reviewed_days"] = int(values["not_reviewed_days"])
    return CustomerFilters(**values)


def filters_signature() -> tuple:
    """A hashable summary of filters, sort and page size (a new one starts a new search)."""
    stored = _stored()
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(stored.items()))


# -- paged lists -------------------------------------------------------------------------------
def paged(key: str, size: int, fetch: Callable[[int, int], Any]) -> tuple[Any, int]:
    """``(fetch(size, offset), offset)`` for the offset remembered under ``key``; ``fetch``
    returns something with ``rows`` and ``total`` (the services' paged results). If the
    list shrank below the remembered page (rows marked done, say), its last page."""
    offset = max(0, int(st.session_state.get(key, 0) or 0))
    result = fetch(size, offset)
    if not result.rows and result.total and offset:
        offset = (result.total - 1) // size * size
        result = fetch(size, offset)
    st.session_state[key] = offset
    return result, offset


def _move(key: str, offset: int) -> None:
    st.session_state[key] = max(0, offset)


def pager(key: str, *, offset: int, shown: int, total: int, size: int, t) -> None:
    """"1–10 of 37" with previous / next buttons for a list drawn with ``paged``."""
    if total <= size and offset == 0:
        return
    c1, c2, c3 = st.columns([4, 1, 1], vertical_alignment="center")
    with c1:
        st.caption(t("list.range", first=number(offset + 1), last=number(offset + shown), total=number(total)))
    with c2:
        st.button(t("grid.prev"), key=f"{key}_prev", disabled=offset == 0, on_click=_move, args=(key, offset - size),
                  icon=":material/chevron_left:", width="stretch")
    with c3:
        st.button(t("grid.next"), key=f"{key}_next", disabled=offset + shown >= total, on_click=_move,
                  args=(key, offset + size), icon=":material/chevron_right:", icon_position="right",
                  width="stretch")


# -- links between pages ----------------------------------------------------------------------
CUSTOMER_PAGE = "customer"  # pages/customer.py, opened as /customer?code=...


def customer_url(code: str) -> str:
    """The customer page's address relative to the app (the grid's link column)."""
    from urllib.parse import quote

    # Relative to the page showing the grid (/customers -> /customer?code=...), so it
    # also works under a base path.
    return f"{nav.BY_MODULE[CUSTOMER_PAGE].url_path}?code={quote(code)}"


def link_to_customer(code: str, label: str, t) -> None:
    """A link that opens the customer page of ``code``."""
    nav.page_link(CUSTOMER_PAGE, t, label=label, query_params={"code": code}, icon=":material/contact_page:")


def customer_link(code: str, name: str | None, t) -> None:
    """A list row's link to its customer: "code name", the name shown as typed (a link
    label is Markdown). Opens the customer through ``link_to_customer``."""
    link_to_customer(code, md_escape(f"{code} {name or ''}".strip()), t)


# -- an administration form's change ------------------------------------------------------------
_ROUND = "cm_round_"  # + form name: how many changes that form has made (its inputs' round)


def form_round(form: str) -> str:
    """The key prefix of form ``form``'s inputs in this round: the form's name and its
    round. ``apply_change(..., new_round=form)`` starts the next round when a change
    succeeds, so the inputs are new widgets, drawn from the values they are given: the
    browser shows them empty again. (A key taken out of the session state does not do
    that: the browser keeps what was typed and sends it with the next submit.)"""
    return f"{form}{st.session_state.get(_ROUND + form, 0)}_"


def next_round(form: str) -> None:
    """Start form ``form``'s next round (``form_round``): its inputs are drawn anew."""
    st.session_state[_ROUND + form] = st.session_state.get(_ROUND + form, 0) + 1


def apply_change(ctx, change: Callable[[], Any], *, input_labels: Mapping[str, str], done_key: str,
                 done: Callable[[Any], Any], new_round: str | None = None) -> None:
    """Run ``change`` (the service call of a form). A refusal is shown here, each field
    problem after the label of its input (``input_labels``: field -> message key), and
    what was typed stays in the inputs. On success ``done(result)`` is kept under
    ``done_key`` for the page to show after the rerun, and form ``new_round`` (keyed by
    ``form_round``) starts its next round."""
    try:
        result = change()
    except ValidationError as exc:
        for p in exc.problems:  # the input it is about, then why
            where = ctx.t(input_labels[p.field]) + ": " if p.field in input_labels else ""
            st.error(md_escape(where + p.translate(ctx.lang)), icon=":material/error:")
        return
    except CustomerMasterError as exc:  # a duplicate, a stale version, a missing item, no permission
        note_refusal(exc)
        st.error(md_escape(exc.translate(ctx.lang)), icon=":material/error:")
        return
    if new_round:
        next_round(new_round)
    st.session_state[done_key] = done(result)
    st.rerun()
