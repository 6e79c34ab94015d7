"""The customer page's Relationships, Follow-ups and Files tabs (AppTest, ``ui.customer_parts``):
each write through its service, refusals in the user's language with the input kept,
buttons only for those who may act (and the service refusing the others)."""
from __future__ import annotations

import pytest

from lib.core.clock import local_today
from lib.core.errors import NotFound, PermissionDenied
from lib.core.i18n import t
from lib.customers import files as fl
from lib.customers import followups as fu
from lib.customers import relationships as rl
from tests.apptest_util import click, open_customer, run, texts
from ui.format import md_escape


def key(rec, name):
    return f"cf_{rec['id']}_{name}"


def plain(at):
    """The visible text without Markdown escapes (messages are escaped for Markdown)."""
    return texts(at).replace("\\", "")


def markdowns(at):
    return "\n".join(m.value for m in at.markdown)


def toasts(at):
    return [x.value for x in at.toast]


def labels(at):
    return [b.label for b in at.button] + [b.label for b in at.get("download_button")]


def page_links(at):
    return [(p.proto.label, p.proto.query_string) for p in at.get("page_link")]


def kind_label(code, lang):
    return {"zh": {"supplier": "上游供应商", "customer": "下游客户"},
            "en": {"supplier": "Upstream supplier", "customer": "Downstream customer"}}[lang][code]


def pdf(extra: bytes = b"") -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" + extra +
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


# -- relationships --------------------------------------------------------------------------------
def link_from_page(at, rec, search, kind, note=None):
    at.text_input(key=key(rec, "rlnew_search")).input(search)
    run(at)
    at.selectbox(key=key(rec, "rlnew_f_relationship_kind")).set_value(kind)
    if note is not None:
        at.text_input(key=key(rec, "rlnew_f_relationship_note")).input(note)
    return click(at, key(rec, "rlnew_go"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_manager_links_two_customers_and_each_page_reads_it_in_its_words(db, db_path, actors, make_customer,
                                                                         lang):
    a = make_customer("manager", name="厦门银行")
    b = make_customer("manager", name="重庆长安汽车")
    at = open_customer(db_path, "manager", a["code"], lang)
    at.text_input(key=key(a, "rlnew_search")).input("cqca")  # pinyin initials
    run(at)
    assert at.selectbox(key=key(a, "rlnew_other")).value == b["id"]  # the only match is picked
    at.selectbox(key=key(a, "rlnew_f_relationship_kind")).set_value("supplier")
    at.text_input(key=key(a, "rlnew_f_relationship_note")).input("年度框架协议")
    click(at, key(a, "rlnew_go"))
    links, _ = rl.links_of(db, actors["manager"], a["id"])
    assert [(x["other_code"], x["relationship_kind"], x["relationship_note"]) for x in links] == \
        [(b["code"], "supplier", "年度框架协议")]
    assert toasts(at) == [t("cf.rel.linked_toast", lang, name="重庆长安汽车")]
    shown = texts(at)
    assert f"**{kind_label('supplier', lang)}**" in shown and "年度框架协议" in shown
    assert (t("cf.rel.other", lang, name=b["name"], code=md_escape(b["code"])),
            f"code={b['code']}") in page_links(at)
    # B's page says the same link the other way round
    at_b = open_customer(db_path, "manager", b["code"], lang)
    assert f"**{kind_label('customer', lang)}**" in texts(at_b)
    assert (t("cf.rel.other", lang, name=a["name"], code=md_escape(a["code"])),
            f"code={a['code']}") in page_links(at_b)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_duplicate_and_cycle_links_are_refused_in_the_users_language(db, db_path, actors, make_customer, lang):
    a = make_customer("manager", name="母公司甲")
    b = make_customer("manager", name="子公司乙")
    rl.link(db, actors["manager"], a["id"], b["id"], "subsidiary")  # B is A's subsidiary
    at = open_customer(db_path, "manager", a["code"], lang)
    link_from_page(at, a, b["code"], "subsidiary")
    assert t("error.relationship_duplicate", lang, name=b["name"], code=b["code"]) in plain(at)
    # from B's page: A as B's subsidiary would make A its own grandparent
    at_b = open_customer(db_path, "manager", b["code"], lang)
    link_from_page(at_b, b, a["code"], "subsidiary", note="循环")
    assert t("error.relationship_cycle", lang) in plain(at_b)
    assert rl.links_of(db, actors["manager"], a["id"])[1] == 1
    # what was typed stays
    assert at_b.text_input(key=key(b, "rlnew_search")).value == a["code"]
    assert at_b.text_input(key=key(b, "rlnew_f_relationship_note")).value == "循环"
    # nothing picked: said under the picker
    at_b.text_input(key=key(b, "rlnew_search")).input("")
    run(at_b)
    click(at_b, key(b, "rlnew_go"))
    assert t("cf.rel.pick_first", lang) in plain(at_b)


def test_a_salesperson_sees_only_name_and_code_of_a_customer_they_cannot_open(db, db_path, actors, make_customer):
    mine = make_customer("sales")
    theirs = make_customer("manager", name="别人的客户", phone="13912345678")
    rl.link(db, actors["manager"], theirs["id"], mine["id"], "partner", note="经理的备注")
    at = open_customer(db_path, "sales", mine["code"], "en")
    shown = texts(at)
    assert t("cf.rel.other", "en", name="别人的客户", code=md_escape(theirs["code"])) in shown
    assert t("cf.rel.not_yours", "en") in shown
    assert all(f"code={theirs['code']}" != q for _, q in page_links(at))
    assert "13912345678" not in shown
    # linked from the manager's customer: the salesperson may not change or remove it
    link = rl.links_of(db, actors["sales"], mine["id"])[0][0]
    assert not link["can_change"]
    assert t("cf.rel.unlink", "en") not in labels(at)
    with pytest.raises(NotFound):  # the customer it was linked from is not theirs to see
        rl.unlink(db, actors["sales"], link["id"], link["version"])


def test_edit_a_links_note_and_unlink(db, db_path, actors, make_customer):
    a = make_customer("sales")
    b = make_customer("manager")
    link = rl.link(db, actors["sales"], a["id"], b["id"], "partner", "旧备注")
    at = open_customer(db_path, "sales", a["code"])
    click(at, key(a, f"rl{link['id']}_edit"))
    at.text_input(key=key(a, f"rl{link['id']}_f_relationship_note")).input("新备注")
    click(at, key(a, f"rl{link['id']}_go"))
    assert rl.links_of(db, actors["sales"], a["id"])[0][0]["relationship_note"] == "新备注"
    click(at, key(a, f"rl{link['id']}_unlink"))
    assert rl.links_of(db, actors["sales"], a["id"])[1] == 0
    assert t("cf.rel.none", "zh") in texts(at)


def test_a_stale_note_edit_shows_the_conflict_and_keeps_the_input(db, db_path, actors, make_customer):
    a = make_customer("manager")
    b = make_customer("manager")
    link = rl.link(db, actors["manager"], a["id"], b["id"], "partner")
    at = open_customer(db_path, "manager", a["code"], "en")
    click(at, key(a, f"rl{link['id']}_edit"))
    rl.change_note(db, actors["admin"], link["id"], "admin's", link["version"])
    at.text_input(key=key(a, f"rl{link['id']}_f_relationship_note")).input("mine")
    click(at, key(a, f"rl{link['id']}_go"))
    assert rl.links_of(db, actors["manager"], a["id"])[0][0]["relationship_note"] == "admin's"
    assert any("admin" in w.value for w in at.warning)
    assert at.text_input(key=key(a, f"rl{link['id']}_f_relationship_note")).value == "mine"


def test_relationships_page(db, db_path, actors, make_customer):
    a = make_customer("manager")
    others = [make_customer("manager") for _ in range(12)]
    for o in others:
        rl.link(db, actors["manager"], a["id"], o["id"], "partner")
    at = open_customer(db_path, "manager", a["code"], "en")
    assert t("cf.hist.count", "en", first=1, last=10, total=12) in texts(at)
    click(at, key(a, "rl_next"))
    assert t("cf.hist.count", "en", first=11, last=12, total=12) in texts(at)
    # the oldest links are on the last page
    assert {q for _, q in page_links(at)} >= {f"code={others[0]['code']}", f"code={others[1]['code']}"}


# -- follow-ups -----------------------------------------------------------------------------------
def fu_key(rec, fid, name):
    return key(rec, f"fu{fid or 'new'}_{name}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_add_a_need_mark_it_done_and_move_its_state(db, db_path, actors, make_customer, lang):
    rec = make_customer("sales")
    s = actors["sales"]
    at = open_customer(db_path, "sales", rec["code"], lang)
    assert at.date_input(key=fu_key(rec, None, "f_followup_occurred_on")).value == local_today()
    # no summary: the error under its input, what was typed kept
    at.selectbox(key=fu_key(rec, None, "f_followup_kind")).set_value("need")
    at.text_input(key=fu_key(rec, None, "f_followup_next_action")).input("寄样品")
    at.date_input(key=fu_key(rec, None, "f_followup_due_on")).set_value(local_today())
    click(at, fu_key(rec, None, "go"))
    assert fu.followups_of(db, s, rec["id"])[1] == 0
    assert at.error and at.text_input(key=fu_key(rec, None, "f_followup_next_action")).value == "寄样品"
    at.text_area(key=fu_key(rec, None, "f_followup_summary")).input("客户需要 50 台样机")
    click(at, fu_key(rec, None, "go"))
    (item,), _ = fu.followups_of(db, s, rec["id"])
    assert (item["followup_kind"], item["followup_occurred_on"], item["followup_due_on"], item["followup_assignee"],
            item["followup_need_state"], item["created_by"]) == ("need", local_today(), local_today(), "sales",
                                                                "open", "sales")
    assert toasts(at) == [t("cf.fu.added_toast", lang)]
    shown = texts(at)
    assert "客户需要 50 台样机" in shown and ("待跟进" if lang == "zh" else "Open") in shown
    click(at, fu_key(rec, item["id"], "done"))
    item = fu.get_followup(db, s, item["id"])
    assert item["done"] and item["done_by"] == "sales"
    assert t("cf.fu.done", lang) in texts(at)
    click(at, fu_key(rec, item["id"], "need_met"))
    assert fu.get_followup(db, s, item["id"])["followup_need_state"] == "met"
    assert toasts(at) == [t("cf.fu.need_state_toast", lang, state="已满足" if lang == "zh" else "Met")]
    click(at, fu_key(rec, item["id"], "done"))  # undo
    assert not fu.get_followup(db, s, item["id"])["done"]


def test_the_author_edits_and_removes_a_followup(db, db_path, actors, make_customer):
    rec = make_customer("sales")
    item = fu.add_followup(db, actors["sales"], rec["id"], {"followup_kind": "call", "followup_summary": "电话"})
    at = open_customer(db_path, "sales", rec["code"], "en")
    click(at, fu_key(rec, item["id"], "edit"))
    at.text_area(key=fu_key(rec, item["id"], "f_followup_summary")).input("电话：报价已发")
    click(at, fu_key(rec, item["id"], "go"))
    assert fu.get_followup(db, actors["sales"], item["id"])["followup_summary"] == "电话：报价已发"
    assert toasts(at) == [t("cf.fu.saved_toast", "en")]
    click(at, fu_key(rec, item["id"], "remove"))
    assert fu.followups_of(db, actors["sales"], rec["id"])[1] == 0


def test_someone_elses_followup_has_no_buttons_and_the_service_refuses(db, db_path, actors, make_customer):
    rec = make_customer("manager", owner="sales")
    item = fu.add_followup(db, actors["manager"], rec["id"], {"followup_kind": "visit", "followup_summary": "拜访",
                                                              "followup_assignee": "manager"})
    at = open_customer(db_path, "sales", rec["code"], "en")
    assert "拜访" in texts(at)
    for name in ("edit", "remove", "done"):
        assert not [b for b in at.button if b.key == fu_key(rec, item["id"], name)]
    with pytest.raises(PermissionDenied):
        fu.change_followup(db, actors["sales"], item["id"], {"followup_summary": "改"}, item["version"])
    with pytest.raises(PermissionDenied):
        fu.mark_done(db, actors["sales"], item["id"], item["version"])
    # the salesperson may still add their own
    assert t("cf.fu.add_title", "en") in [e.label for e in at.expander]
    # the manager (followup.edit_any) has them
    at_m = open_customer(db_path, "manager", rec["code"], "en")
    assert at_m.button(key=fu_key(rec, item["id"], "edit"))


def test_a_stale_followup_edit_shows_the_conflict_and_keeps_the_input(db, db_path, actors, make_customer):
    rec = make_customer("manager")
    item = fu.add_followup(db, actors["manager"], rec["id"], {"followup_kind": "note", "followup_summary": "原文"})
    at = open_customer(db_path, "manager", rec["code"], "en")
    click(at, fu_key(rec, item["id"], "edit"))
    fu.change_followup(db, actors["admin"], item["id"], {"followup_summary": "管理员改的"}, item["version"])
    at.text_area(key=fu_key(rec, item["id"], "f_followup_summary")).input("我改的")
    click(at, fu_key(rec, item["id"], "go"))
    assert fu.get_followup(db, actors["manager"], item["id"])["followup_summary"] == "管理员改的"
    assert any("admin" in w.value for w in at.warning)
    assert at.text_area(key=fu_key(rec, item["id"], "f_followup_summary")).value == "我改的"


def test_followups_are_paged_newest_first(db, db_path, actors, make_customer):
    from datetime import timedelta

    rec = make_customer("manager")
    for i in range(12):
        fu.add_followup(db, actors["manager"], rec["id"], {
            "followup_kind": "note", "followup_summary": f"第{i}条",
            "followup_occurred_on": local_today() - timedelta(days=i)})
    at = open_customer(db_path, "manager", rec["code"], "en")
    assert t("cf.hist.count", "en", first=1, last=10, total=12) in texts(at)
    shown = markdowns(at)
    assert shown.index("第0条") < shown.index("第9条") and "第11条" not in shown
    click(at, key(rec, "fu_next"))
    assert "第11条" in markdowns(at) and "第0条" not in markdowns(at)


# -- files ----------------------------------------------------------------------------------------
def fl_key(rec, fid, name):
    return key(rec, f"fl{fid or 'new'}_{name}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_upload_a_pdf_download_the_same_bytes_and_remove_it(db, db_path, actors, make_customer, downloads, lang):
    rec = make_customer("sales")
    data = pdf(b"% contract 2026\n")
    at = open_customer(db_path, "sales", rec["code"], lang)
    at.file_uploader(key=fl_key(rec, None, "upload0")).set_value(("合同 2026.pdf", data, "application/pdf"))
    at.text_input(key=fl_key(rec, None, "f_file_title")).input("年度合同")
    click(at, fl_key(rec, None, "go"))
    (item,), _ = fl.files_of(db, actors["sales"], rec["id"])
    assert (item["filename"], item["file_title"], item["file_kind"], item["size_bytes"]) == \
        ("合同 2026.pdf", "年度合同", "contract", len(data))
    assert toasts(at) == [t("cf.file.added_toast", lang, name=md_escape("合同 2026.pdf"))]
    shown = texts(at)
    assert "年度合同" in shown and item["sha256"][:12] in shown and ("合同" if lang == "zh" else "Contract") in shown
    assert downloads["合同 2026.pdf"]() == data
    assert t("cf.file.download", lang) in labels(at)
    # the uploader is empty again
    assert not at.file_uploader(key=fl_key(rec, None, "upload1")).value
    click(at, fl_key(rec, item["id"], "remove"))
    assert fl.files_of(db, actors["sales"], rec["id"])[1] == 0
    assert toasts(at) == [t("cf.file.removed_toast", lang, name=md_escape("合同 2026.pdf"))]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_refused_uploads_say_why_in_the_users_language(db, db_path, actors, make_customer, lang):
    with db.transaction() as cur:
        cur.execute("UPDATE settings SET value = '1' WHERE key = 'upload_max_mb'")
    rec = make_customer("sales")
    at = open_customer(db_path, "sales", rec["code"], lang)
    assert at.file_uploader(key=fl_key(rec, None, "upload0")).proto.max_upload_size_mb == 1
    cases = [
        ("", None, "cf.file.none_chosen", {}),
        ("empty.pdf", b"", "validation.file_empty", {}),
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 200, "validation.file_type", {}),
        ("big.pdf", pdf(b"%" + b"x" * 1_200_000 + b"\n"), "validation.file_too_large",
         {"max_mb": "1", "size_mb": "1.1"}),
    ]
    for name, data, message, params in cases:
        uploader = at.file_uploader(key=fl_key(rec, None, "upload0"))
        uploader.set_value(None if data is None else (name, data, "application/pdf"))
        at.text_input(key=fl_key(rec, None, "f_file_title")).input("标题 " + name)
        click(at, fl_key(rec, None, "go"))
        assert t(message, lang, **params) in plain(at), message
        assert at.text_input(key=fl_key(rec, None, "f_file_title")).value == "标题 " + name
    assert fl.files_of(db, actors["sales"], rec["id"])[1] == 0


# -- roles and languages --------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_viewer_sees_every_tab_read_only(db, db_path, actors, make_customer, downloads, lang):
    rec = make_customer("manager")
    other = make_customer("manager", name="伙伴公司")
    rl.link(db, actors["manager"], rec["id"], other["id"], "partner")
    fu.add_followup(db, actors["manager"], rec["id"], {"followup_kind": "need", "followup_summary": "要报价"})
    data = pdf()
    fl.add_file(db, actors["manager"], rec["id"], "c.pdf", data)
    at = open_customer(db_path, "viewer", rec["code"], lang)
    shown = plain(at)
    assert "要报价" in shown and "c.pdf" in shown
    assert (t("cf.rel.other", lang, name="伙伴公司", code=md_escape(other["code"])), f"code={other['code']}") \
        in page_links(at)
    assert not at.file_uploader
    assert [b.label for b in at.get("download_button")] == [t("cf.file.download", lang)]
    assert downloads["c.pdf"]() == data  # a viewer may download
    own = [b.key for b in at.button if b.key and b.key.startswith((key(rec, "rl"), key(rec, "fu"), key(rec, "fl")))]
    assert own == []
    expanders = [e.label for e in at.expander]
    for absent in ("cf.rel.add_title", "cf.fu.add_title", "cf.file.add_title"):
        assert t(absent, lang) not in expanders
    with pytest.raises(PermissionDenied):
        fu.add_followup(db, actors["viewer"], rec["id"], {"followup_kind": "note", "followup_summary": "x"})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_message_key_shows_raw_on_the_tabs_or_in_history(db, db_path, actors, make_customer, lang):
    rec = make_customer("manager")
    other = make_customer("manager")
    rl.link(db, actors["manager"], rec["id"], other["id"], "parent")
    item = fu.add_followup(db, actors["manager"], rec["id"], {"followup_kind": "need", "followup_summary": "需求"})
    fu.mark_done(db, actors["manager"], item["id"], item["version"])
    fl.add_file(db, actors["manager"], rec["id"], "c.pdf", pdf())
    at = open_customer(db_path, "manager", rec["code"], lang)
    shown = texts(at) + "\n".join(labels(at) + [e.label for e in at.expander] + [x.label for x in at.tabs])
    for raw in ("cf.", "contact.", "error.", "validation.", "to_customer", "size_bytes", "done_by", "is_primary"):
        assert raw not in shown, raw
