"""Import (导入客户): a file of customers, mapped, dry-run, then imported whole.

The steps are ``lib.customers.importing``'s: read the upload (``read_sheet``), offer the
suggested column mapping (``suggest_mapping`` with the user's remembered choices), run
the dry run, show its counts, problems (downloadable), warnings to accept for the whole
file and possible duplicates, and import only a file whose dry run passed with exactly
this file, sheet, mapping and matching (any change asks for a new dry run).
"""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from lib.accounts import permissions as perm
from lib.core.errors import ConflictError, CustomerMasterError
from lib.customers import fields as F
from lib.customers import export as ex
from lib.customers import importing as imp
from lib.customers.sheets import cell_text, read_sheet
from ui import nav
from ui import widgets as W
from ui.context import note_refusal, page_context
from ui.format import md_escape

SHEET = "im_sheet"  # the chosen XLSX sheet
READ = "im_read"  # (file digest, sheet) -> the Sheet read, for this session
DRY = "im_dry"  # (signature, Outcome) of the last dry run
PROBLEMS = "im_problems"  # (Outcome, language, problem rows, table) of the dry run shown
DONE = "im_done"  # the Outcome of the last import


def render() -> None:
    ctx = page_context(perm.PAGE_IMPORT)
    W.keep_state_for(ctx.actor)
    t, lang = ctx.t, ctx.lang
    st.title(t("nav.import_customers"), anchor=False)
    if (done := st.session_state.get(DONE)) is not None:
        st.success(t("import.done", new=done.new, updated=done.updated, unchanged=done.unchanged),
                   icon=":material/check_circle:")
        nav.page_link("customers", t)
    st.caption(t("import.intro"))
    st.download_button(t("export.template"), data=lambda: ex.import_template(ctx.db, lang, actor=ctx.actor),
                       file_name=ex.TEMPLATE_FILE_NAME, mime=ex.MEDIA_TYPES["xlsx"], on_click="ignore",
                       icon=":material/note_add:", key="im_template", help=t("export.template_help"), type="tertiary")
    upload = st.file_uploader(t("import.file"), type=["csv", "xlsx"], key="im_file")
    if upload is None:  # removed (or never given): let go of what was read from it
        for key in (READ, DRY, PROBLEMS):
            st.session_state.pop(key, None)
        return
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    try:
        sheet = _read(data, digest, st.session_state.get(SHEET))
    except CustomerMasterError as exc:
        note_refusal(exc)
        st.error(md_escape(exc.translate(lang)), icon=":material/error:")
        return
    if len(sheet.sheet_names) > 1:
        st.selectbox(t("import.sheet"), sheet.sheet_names, key=SHEET)
    encoding = t("import.encoding", encoding=sheet.encoding) if sheet.encoding else ""
    st.caption(t("import.read_as", header=sheet.header_row, rows=len(sheet.rows), encoding=encoding))

    holds = st.radio(t("import.holds"), imp.HOLDS, horizontal=True, key="im_holds",
                     format_func=lambda h: t(f"import.holds.{h}"))
    mapping = _mapping_editor(ctx, sheet, digest, holds)
    match_by = "code"
    if holds == imp.CUSTOMERS:
        match_by = st.radio(t("import.match_by"), imp.MATCH_BY, horizontal=True, key="im_match",
                            format_func=lambda m: t(f"import.match.{m}"), help=t("import.match_help"))
    signature = (digest, sheet.sheet, holds, tuple(mapping), match_by)
    if st.button(t("import.dry_run"), type="primary", icon=":material/fact_check:", key="im_dry_run"):
        st.session_state.pop(DONE, None)
        bar = st.progress(0.0)
        try:
            out = imp.dry_run(ctx.db, ctx.actor, sheet, mapping, match_by=match_by, holds=holds,
                              progress=lambda d, n: bar.progress(d / max(n, 1),
                                                                 text=t("import.checking", done=d, total=n)))
        except CustomerMasterError as exc:
            note_refusal(exc)
            st.error(md_escape(exc.translate(lang)), icon=":material/error:")
            return
        finally:
            bar.empty()
        st.session_state[DRY] = (signature, out)
    dry = st.session_state.get(DRY)
    if dry is None:
        return
    if dry[0] != signature:
        st.info(t("import.stale"), icon=":material/info:")
        return
    _dry_run_report(ctx, dry[1], sheet, mapping, match_by, holds, upload.name)


def _read(data: bytes, digest: str, sheet_name: str | None):
    cache = st.session_state.setdefault(READ, {})
    key = (digest, sheet_name)
    if key not in cache:
        cache.clear()  # one file at a time
        cache[key] = read_sheet(data, sheet=sheet_name, header_score=imp.names_a_field)
    return cache[key]


def _mapping_editor(ctx, sheet, digest: str, holds: str) -> list[str | None]:
    t, lang = ctx.t, ctx.lang
    suggested = imp.suggest_mapping(sheet.headers, imp.remembered_mapping(ctx.db, ctx.actor.username), holds)
    choices = ["", imp.CODE, *(f.name for f in imp.importable_fields(holds))]

    def label(name: str) -> str:
        if not name:
            return t("import.not_imported")
        return t("import.code_column") if name == imp.CODE else F.label(name, lang)

    st.subheader(t("import.mapping"), anchor=False)
    st.caption(t("import.mapping_help"))
    mapping: list[str | None] = []
    cols = st.columns(3)
    for j, heading in enumerate(sheet.headers):
        example = next((cell_text(c[j]) for _, c in sheet.rows[:20] if c[j] is not None), None)
        choice = cols[j % 3].selectbox(
            heading or f"#{j + 1}", choices, index=choices.index(suggested[j] or ""), format_func=label,
            key=f"im_map_{digest[:12]}_{sheet.sheet}_{holds}_{j}",
            help=t("import.example", value=example[:60]) if example else None)
        mapping.append(choice or None)
    unmapped = [h or f"#{j + 1}" for j, (h, m) in enumerate(zip(sheet.headers, mapping)) if not m]
    if unmapped:
        st.caption(md_escape(t("import.unmapped", columns="、".join(unmapped) if lang == "zh" else ", ".join(unmapped))))
    return mapping


def _problem_table(ctx, out: imp.Outcome) -> tuple[list[dict], pd.DataFrame]:
    """The dry run's problems as rows and as the table shown, made once per dry run and
    language (100,000 problems take about 0.45 s to translate and tabulate) and kept
    with the outcome they belong to."""
    t, lang = ctx.t, ctx.lang
    kept = st.session_state.get(PROBLEMS)
    if kept is not None and kept[0] is out and kept[1] == lang:
        return kept[2], kept[3]
    rows = imp.problem_rows(out, lang)
    kinds = {True: t("import.warning"), False: t("import.error")}
    frame = pd.DataFrame([{t(f"import.col.{k}"): (kinds[r[k]] if k == "warning" else r[k])
                           for k in imp.PROBLEM_COLUMNS} for r in rows])
    st.session_state[PROBLEMS] = (out, lang, rows, frame)
    return rows, frame


def _dry_run_report(ctx, out: imp.Outcome, sheet, mapping, match_by: str, holds: str, file_name: str) -> None:
    t, lang = ctx.t, ctx.lang
    c = st.columns(5)
    for col, (key, value) in zip(c, [("rows", out.rows), ("new", out.new), ("updated", out.updated),
                                     ("unchanged", out.unchanged), ("failing", out.failing)]):
        col.metric(t(f"import.count.{key}"), value, border=True)
    rows, frame = _problem_table(ctx, out)
    if out.problems:
        st.subheader(t("import.problems", count=len(out.problems)), anchor=False)
        st.dataframe(frame, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(rows)))
        st.download_button(t("import.download_problems"), data=lambda: imp.problem_report_csv(out, lang),
                           file_name="import-problems.csv", mime="text/csv", icon=":material/download:",
                           on_click="ignore", key="im_problems_csv")
    accepted = []
    for code, count in sorted(out.warnings.items()):
        example = next(r["message"] for r, p in zip(rows, out.problems) if p.code == code)
        if st.checkbox(t("import.accept_warning", rows=count, example=example), key=f"im_ok_{code}"):
            accepted.append(code)
    if out.lookalikes:
        st.subheader(t("import.lookalikes", count=len(out.lookalikes)), anchor=False)
        st.caption(t("import.lookalikes_help"))
        st.dataframe(pd.DataFrame([{t("import.col.row"): x.row, t("import.col.reason"): t(f"import.reason.{x.reason}"),
                                    t("import.col.existing"): f"{x.code} {x.name}" if x.code else "",
                                    t("import.col.other_row"): x.other_row or ""}
                                   for x in out.lookalikes]), hide_index=True, width="stretch")
    if out.failing:
        st.error(t("import.fix_first", failing=out.failing), icon=":material/error:")
        return
    if set(out.warnings) - set(accepted):
        return
    st.success(t("import.ready"), icon=":material/check_circle:")
    if st.button(t("import.run", rows=out.rows), type="primary", icon=":material/upload:", key="im_run"):
        bar = st.progress(0.0)
        try:
            done = imp.run_import(ctx.db, ctx.actor, sheet, mapping, match_by=match_by, holds=holds, confirm=accepted,
                                  expected=out.versions, source=file_name,
                                  progress=lambda d, n: bar.progress(d / max(n, 1),
                                                                     text=t("import.writing", done=d, total=n)))
        except ConflictError as exc:
            st.session_state.pop(DRY, None)
            st.error(md_escape(exc.translate(lang)), icon=":material/error:")
            return
        except CustomerMasterError as exc:
            note_refusal(exc)
            st.error(md_escape(exc.translate(lang)), icon=":material/error:")
            return
        finally:
            bar.empty()
        if not done.clean:  # something changed between the dry run and the import
            st.session_state[DRY] = ((*st.session_state[DRY][0],), done)
            st.rerun()
        imp.remember_mapping(ctx.db, ctx.actor.username, sheet.headers, mapping)
        st.session_state[DONE] = done
        for key in (DRY, READ, PROBLEMS, "im_file"):
            st.session_state.pop(key, None)
        st.rerun()


nav.leave_if_run_directly(__name__)
