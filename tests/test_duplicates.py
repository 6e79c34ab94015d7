"""The duplicate finder over the whole base (lib.customers.duplicates): each reason,
name normalisation, ranking, paging, owner scoping, keys kept in step with writes,
and the warning after an edit."""
from __future__ import annotations

import pytest

from lib.accounts import permissions as perm
from lib.core.errors import PermissionDenied
from lib.customers import contacts as ct
from lib.customers import customer as cs
from lib.customers import duplicates as D
from lib.customers.merge import merge_customers
from lib.customers.search import find_duplicates


def groups_of(db, actor, size=100):
    page = D.duplicate_groups(db, actor, size=size)
    return [(g, members) for g, members in page.groups]


def group_with(db, actor, *ids):
    """The groups holding all of ``ids``."""
    return [g for g, _ in groups_of(db, actor) if set(ids) <= set(g.ids)]


# -- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", [
    ("北京某某科技有限公司", "某某科技（北京）股份有限公司"),
    ("北京市某某科技有限公司", "某某科技(北京)有限责任公司"),
    ("ACME Co., Ltd.", "Acme Ltd"),
    ("ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．", "acme limited"),
    ("Acme-Widgets Inc.", "ACME WIDGETS"),
])
def test_names_that_are_one_company_share_a_name_key(a, b):
    assert D.name_keys(a).name_key == D.name_keys(b).name_key


@pytest.mark.parametrize("a, b", [
    ("北京某某科技有限公司", "上海某某科技有限公司"),  # another city: another company (similar only)
    ("某某科技有限公司", "某某物流有限公司"),
    ("ACME Co., Ltd.", "Apex Ltd"),
])
def test_different_companies_keep_different_name_keys(a, b):
    assert D.name_keys(a).name_key != D.name_keys(b).name_key


def test_a_name_of_only_a_suffix_keeps_itself():
    assert D.name_keys("有限公司").name_key == "有限公司"


# -- each reason ---------------------------------------------------------------------------------
def test_same_normalised_name_groups(db, actors, make_customer):
    a = make_customer(name="北京星河数据科技有限公司")
    b = make_customer(name="星河数据科技（北京）股份有限公司")
    make_customer(name="完全不同贸易有限公司")
    [g] = group_with(db, actors["manager"], a["id"], b["id"])
    assert g.ids == (a["id"], b["id"]) and "name" in g.reasons
    assert g.confidence == D.CONFIDENCE["name"]


def test_same_phone_groups_company_and_contact_phones(db, actors, make_customer):
    a = make_customer(name="甲公司", phone="13800138000")
    b = make_customer(name="乙公司", phone="+86 138-0013-8000")
    c = make_customer(name="丙公司", phone="010-62345678")
    ct.add_contact(db, actors["manager"], c["id"], {"contact_name": "王芳", "contact_mobile": "13800138000"})
    [g] = group_with(db, actors["manager"], a["id"], b["id"], c["id"])
    assert g.reasons == ("phone",) and g.values == ("+8613800138000",)
    assert g.confidence == D.CONFIDENCE["phone"]


def test_same_pinyin_other_characters_groups(db, actors, make_customer):
    a = make_customer(name="凯铭物业管理有限公司")
    b = make_customer(name="凯明物业管理有限公司")
    [g] = group_with(db, actors["manager"], a["id"], b["id"])
    assert "pinyin" in g.reasons


def test_very_similar_names_group_by_rapidfuzz(db, actors, make_customer):
    a = make_customer(name="深圳华信达电子科技有限公司")
    b = make_customer(name="深圳华信达电子科技发展有限公司")
    far = make_customer(name="深圳华丰五金制品有限公司")
    [g] = group_with(db, actors["manager"], a["id"], b["id"])
    assert g.reasons == ("similar_name",) and far["id"] not in g.ids
    assert 60 <= g.confidence < D.CONFIDENCE["pinyin"]


def test_same_core_in_another_city_is_only_similar(db, actors, make_customer):
    a = make_customer(name="北京永迅纺织有限公司")
    b = make_customer(name="上海永迅纺织有限公司")
    [g] = group_with(db, actors["manager"], a["id"], b["id"])
    assert g.reasons == ("similar_name",)


def test_same_uscc_groups(db, actors, make_customer):
    # The write path's unique key keeps live customers from sharing a USCC; a row that
    # holds one beside another (written around the key, as a bulk path might) shows.
    a = make_customer(name="甲方科技有限公司", uscc="91110108551385082Q")
    b = make_customer(name="乙方贸易有限公司")
    with db.transaction() as cur:
        cur.execute("UPDATE customers SET uscc = ? WHERE id = ?", ["91110108551385082Q", b["id"]])
    [g] = group_with(db, actors["manager"], a["id"], b["id"])
    assert g.reasons == ("uscc",) and g.confidence == 100


def test_individuals_are_not_grouped_by_name(db, actors, make_customer):
    a = make_customer(name="王伟", customer_type="individual", phone="13900001111")
    b = make_customer(name="王伟", customer_type="individual", phone="13900002222")
    assert group_with(db, actors["manager"], a["id"], b["id"]) == []


def test_archived_customers_are_grouped_merged_ones_not(db, actors, make_customer):
    a = make_customer(name="北京云帆软件有限公司")
    b = make_customer(name="云帆软件（北京）有限公司")
    b = cs.archive_customer(db, actors["manager"], b["id"], b["version"])
    assert group_with(db, actors["manager"], a["id"], b["id"])
    merge_customers(db, actors["manager"], a["id"], a["version"], {b["id"]: b["version"]})
    assert group_with(db, actors["manager"], a["id"], b["id"]) == []


# -- ranking, paging, scope --------------------------------------------------------------------------
def test_groups_rank_by_confidence_and_reasons_add_up(db, actors, make_customer):
    sim_a = make_customer(name="杭州远景照明科技有限公司", phone="13700000001")
    sim_b = make_customer(name="杭州远景照明科技发展有限公司", phone="13700000002")
    phone_a = make_customer(name="甲乙丙有限公司", phone="13700000003")
    phone_b = make_customer(name="丁戊己有限公司", phone="13700000003")
    both_a = make_customer(name="北京青松环保有限公司", phone="13700000004")
    both_b = make_customer(name="青松环保(北京)有限公司", phone="13700000004")
    groups = [g.ids for g, _ in groups_of(db, actors["manager"])]
    assert groups.index((both_a["id"], both_b["id"])) < groups.index((phone_a["id"], phone_b["id"])) \
        < groups.index((sim_a["id"], sim_b["id"]))
    [both] = group_with(db, actors["manager"], both_a["id"], both_b["id"])
    assert both.reasons == ("phone", "name")
    assert both.confidence == D.CONFIDENCE["phone"] + D.EXTRA_REASON


def test_pages_of_groups(db, actors, make_customer):
    for i in range(5):
        make_customer(name=f"测试{i}号甲有限公司", phone=f"1360000000{i}")
        make_customer(name=f"测试{i}号乙有限公司", phone=f"1360000000{i}")
    manager = actors["manager"]
    first = D.duplicate_groups(db, manager, size=2)
    second = D.duplicate_groups(db, manager, offset=2, size=2)
    last = D.duplicate_groups(db, manager, offset=4, size=2)
    assert first.total == second.total == last.total == 5
    assert [len(p.groups) for p in (first, second, last)] == [2, 2, 1]
    seen = [g.ids for p in (first, second, last) for g, _ in p.groups]
    assert len(set(seen)) == 5
    assert all(len(members) == 2 for p in (first, second, last) for _, members in p.groups)


def test_salespeople_see_groups_among_their_own_customers_only(db, actors, make_customer):
    mine_a = make_customer(actor="sales", name="苏州恒通机械有限公司")
    mine_b = make_customer(actor="sales", name="恒通机械（苏州）有限公司")
    theirs = make_customer(actor="sales2", name="苏州恒通机械股份有限公司")
    sales = actors["sales"]
    [g] = group_with(db, sales, mine_a["id"], mine_b["id"])
    assert g.ids == (mine_a["id"], mine_b["id"])
    assert not any(theirs["id"] in g.ids for g, _ in groups_of(db, sales))
    for _, members in groups_of(db, sales):
        assert {m.owner for m in members} == {"sales"}
    # the manager sees all three as one group
    assert group_with(db, actors["manager"], mine_a["id"], mine_b["id"], theirs["id"])
    assert not groups_of(db, actors["sales2"])


def test_finding_needs_the_read_right(db):
    nobody = db.actor("ghost", "no-such-role")
    with pytest.raises(PermissionDenied):
        D.duplicate_groups(db, nobody)


# -- the keys follow writes ----------------------------------------------------------------------
def test_a_rename_makes_and_breaks_groups(db, actors, make_customer):
    manager = actors["manager"]
    a = make_customer(name="宁波海天塑机有限公司")
    b = make_customer(name="无关名称有限公司")
    assert not group_with(db, manager, a["id"], b["id"])
    b2 = cs.update_customer(db, manager, b["id"], {"name": "海天塑机（宁波）有限公司"}, b["version"])
    assert group_with(db, manager, a["id"], b["id"])
    cs.update_customer(db, manager, b["id"], {"name": "又一个无关名称有限公司"}, b2["version"])
    assert not group_with(db, manager, a["id"], b["id"])


def test_keys_are_recomputed_for_names_and_rules_that_changed(db, make_customer, monkeypatch):
    make_customer(name="一号有限公司")
    make_customer(name="二号有限公司")
    make_customer(name="三号有限公司")
    assert D.refresh_keys(db, chunk=2) == 3  # in two chunks
    assert D.refresh_keys(db) == 0 and D.stale_keys(db) == 0
    monkeypatch.setattr(D, "RULE", D.RULE + 1)
    assert D.refresh_keys(db) == 3


# -- the warning after an edit -------------------------------------------------------------------
def test_an_edit_that_makes_a_customer_look_like_another_warns(db, actors, make_customer):
    manager = actors["manager"]
    a = make_customer(name="厦门鹭岛航运有限公司", phone="0592-5551234")
    b = make_customer(name="另一家贸易有限公司")
    saved = cs.update_customer(db, manager, b["id"], {"phone": "05925551234"}, b["version"])
    [m] = D.edit_warnings(db, manager, saved, {"phone"})
    assert m.code == a["code"] and m.reasons == ("phone",)
    # a change of another field asks nothing
    assert D.edit_warnings(db, manager, saved, {"notes"}) == []
    # the customer itself is never its own match
    assert all(m.code != b["code"] for m in D.edit_warnings(db, manager, saved, {"name", "phone"}))


def test_the_finder_is_checked_by_the_permission_table():
    assert perm.PAGE_DUPLICATES == "page.duplicates"


def test_many_stale_keys_are_computed_in_the_background(db, actors, make_customer, monkeypatch):
    a = make_customer(name="北京青松环保有限公司")
    b = make_customer(name="青松环保（北京）有限公司")
    monkeypatch.setattr(D, "BACKGROUND_AFTER", 1)
    page = D.duplicate_groups(db, actors["manager"])
    assert page.preparing == 2 and page.groups == [] and page.total == 0
    db.service("duplicate_groups", D.GroupCache).wait()
    assert D.stale_keys(db) == 0
    page = D.duplicate_groups(db, actors["manager"])
    assert page.preparing == 0 and [g.ids for g, _ in page.groups] == [(a["id"], b["id"])]


def test_a_large_base_shows_the_last_groups_while_it_finds_them_again(db, actors, make_customer, monkeypatch):
    manager = actors["manager"]
    a = make_customer(name="北京青松环保有限公司")
    b = make_customer(name="青松环保（北京）有限公司")
    monkeypatch.setattr(D, "SYNC_MAX", 0)  # every grouping in the background, as at 1M
    cache = db.service("duplicate_groups", D.GroupCache)
    assert D.duplicate_groups(db, manager).preparing
    cache.wait()
    first = D.duplicate_groups(db, manager)
    assert [g.ids for g, _ in first.groups] == [(a["id"], b["id"])] and not first.refreshing
    renamed = cs.update_customer(db, manager, b["id"], {"name": "毫不相干有限公司"}, b["version"])
    meanwhile = D.duplicate_groups(db, manager)
    assert meanwhile.refreshing and meanwhile.as_of == first.as_of
    # the last grouping, with its members as stored now
    [(_, members)] = meanwhile.groups
    assert [m.name for m in members if m.id == b["id"]] == [renamed["name"]]
    cache.wait()
    after = D.duplicate_groups(db, manager)
    assert after.groups == [] and not after.refreshing


def test_a_group_whose_members_were_merged_meanwhile_is_not_shown(db, actors, make_customer, monkeypatch):
    manager = actors["manager"]
    a = make_customer(name="北京青松环保有限公司")
    b = make_customer(name="青松环保（北京）有限公司")
    monkeypatch.setattr(D, "SYNC_MAX", 0)
    cache = db.service("duplicate_groups", D.GroupCache)
    D.duplicate_groups(db, manager)
    cache.wait()
    merge_customers(db, manager, a["id"], a["version"], {b["id"]: b["version"]})
    meanwhile = D.duplicate_groups(db, manager)
    assert meanwhile.refreshing and meanwhile.groups == []
    cache.wait()


def test_a_rename_into_another_companys_name_written_otherwise_warns(db, actors, make_customer):
    manager = actors["manager"]
    other = make_customer(name="北京某某科技有限公司")
    rec = make_customer(name="毫不相干的名字有限公司")
    D.refresh_keys(db)  # the finder has seen the base (the page refreshes before grouping)
    # the entry form's check alone misses this one (its core keeps the bracketed city)
    saved = cs.update_customer(db, manager, rec["id"], {"name": "某某科技（北京）股份有限公司"}, rec["version"])
    assert find_duplicates(db, manager, {"name": saved["name"]}, exclude_id=rec["id"]) == []
    codes = [m.code for m in D.edit_warnings(db, manager, saved, {"name"})]
    assert codes == [other["code"]]
    # a salesperson is told the match exists, not shown its file
    theirs = make_customer(actor="sales2", name="上海某某物流有限公司")
    mine = make_customer(actor="sales", name="另一个名字有限公司")
    D.refresh_keys(db)
    saved = cs.update_customer(db, actors["sales"], mine["id"], {"name": "某某物流（上海）有限公司"}, mine["version"])
    [m] = [m for m in D.edit_warnings(db, actors["sales"], saved, {"name"}) if m.code == theirs["code"]]
    assert (m.visible, m.id, m.owner) == (False, None, "sales2")


def test_the_entry_form_asks_about_the_same_company_with_its_city_in_brackets(db, actors, make_customer):
    from lib.customers.entry import PossibleDuplicates, enter_customer
    from tests.conftest import customer_values

    old = make_customer(name="北京云杉数据科技有限公司")
    D.refresh_keys(db)
    with pytest.raises(PossibleDuplicates) as exc:
        enter_customer(db, actors["manager"], customer_values(name="云杉数据科技（北京）股份有限公司"))
    assert [m.code for m in exc.value.matches] == [old["code"]]
