"""Search: matching, relevance, keyset paging, filters, row scope, duplicate check."""
from __future__ import annotations

from datetime import timedelta

import pytest

from lib.customers import customer as cs
from lib.core.clock import local_today
from lib.core.errors import CustomerMasterError, ValidationError
from lib.customers.analytics import customer_analytics
from lib.customers.search import CustomerFilters, PageRequest, find_duplicates, search


def names(result):
    return [r["name"] for r in result.rows]


def test_pinyin_initials_rank_the_whole_name_first(make_customer, actors, db):
    bank = make_customer(name="厦门银行股份有限公司", phone="0592-5389999")
    # Created later (so newer), their initials only start with "xmyh".
    for i, core in enumerate(["厦门银海", "厦门怡和", "厦门远航", "厦门银河"]):
        make_customer(name=f"{core}科技{i}有限公司")
    inside = make_customer(name="福建厦门银行分理处")  # initials fjxmyhflc: a substring match
    result = search(db, actors["manager"], CustomerFilters(text="xmyh"))
    assert result.rows[0]["id"] == bank["id"]
    assert result.total == 6
    assert result.rows[-1]["id"] == inside["id"]  # substring after every prefix


def test_exact_code_ranks_first_then_prefix_then_substring(make_customer, actors, db):
    target = make_customer(name="深圳华信达电子有限公司")
    make_customer(name=f"客户{target['code']}备注")  # the code as a substring of a name
    result = search(db, actors["manager"], CustomerFilters(text=target["code"].lower()))
    assert result.rows[0]["id"] == target["id"]

    prefix = make_customer(name="华信达贸易有限公司")
    inner = make_customer(name="深圳华信达科技有限公司")
    result = search(db, actors["manager"], CustomerFilters(text="华信达"))
    assert result.rows[0]["id"] == prefix["id"]
    assert {r["id"] for r in result.rows[1:]} >= {inner["id"]}


def test_phone_found_as_typed_in_any_form(make_customer, actors, db):
    c = make_customer(name="电话测试有限公司", phone="0755-12345678 转 12", contact_phone="13912345678")
    for query in ("075512345678", "+86 755 1234 5678", "0755-12345678", "139 1234 5678", "+8613912345678"):
        assert search(db, actors["manager"], CustomerFilters(text=query)).rows[0]["id"] == c["id"], query


def test_terms_are_all_required(make_customer, actors, db):
    make_customer(name="北京华为科技有限公司")
    make_customer(name="北京小米电子有限公司")
    assert names(search(db, actors["manager"], CustomerFilters(text="北京 科技"))) == ["北京华为科技有限公司"]


def test_keyset_pages_cover_every_row_once_in_order_and_back(make_customer, actors, db):
    for i in range(23):
        make_customer(name=f"分页客户{i:02d}有限公司", tier="B")
    make_customer(name="别的等级有限公司", tier="A")
    f = CustomerFilters(choices={"tier": ("B",)})
    everything = search(db, actors["manager"], f, sort="name_asc", page=PageRequest(size=100))
    assert everything.total == 23
    seen, pages, cursor = [], [], None
    while True:
        r = search(db, actors["manager"], f, sort="name_asc", page=PageRequest(size=5, after=cursor))
        assert r.total == 23
        pages.append(r)
        seen += [x["id"] for x in r.rows]
        cursor = r.next_cursor
        if cursor is None:
            break
    assert seen == [x["id"] for x in everything.rows]
    assert len(pages) == 5 and len(pages[-1].rows) == 3
    back = search(db, actors["manager"], f, sort="name_asc", page=PageRequest(size=5, before=pages[3].prev_cursor))
    assert [x["id"] for x in back.rows] == [x["id"] for x in pages[2].rows]


def test_a_forged_or_foreign_cursor_is_refused(make_customer, actors, db):
    make_customer()
    make_customer()
    r = search(db, actors["manager"], CustomerFilters(), sort="name_asc", page=PageRequest(size=1))
    with pytest.raises(CustomerMasterError):
        search(db, actors["manager"], CustomerFilters(), sort="code_asc", page=PageRequest(after=r.next_cursor))
    with pytest.raises(CustomerMasterError):
        search(db, actors["manager"], CustomerFilters(), page=PageRequest(after="not-a-cursor"))


def test_sales_see_only_their_own(make_customer, actors, db):
    mine = make_customer("sales", name="我的客户有限公司")
    make_customer("sales2", name="别人的客户有限公司")
    make_customer("manager", name="经理的客户有限公司")
    r = search(db, actors["sales"], CustomerFilters())
    assert [x["id"] for x in r.rows] == [mine["id"]] and r.total == 1
    assert search(db, actors["sales"], CustomerFilters(text="别人")).total == 0
    assert search(db, actors["manager"], CustomerFilters()).total == 3


def test_filters_archived_review_age_and_created_range(make_customer, actors, db):
    old = make_customer(name="久未复核有限公司")
    fresh = make_customer(name="刚复核有限公司")
    gone = make_customer(name="已归档有限公司")
    cs.archive_customer(db, actors["manager"], gone["id"], gone["version"])
    with db.transaction() as cur:
        cur.execute("UPDATE customers SET reviewed_at = reviewed_at - INTERVAL 400 DAY WHERE id = ?", [old["id"]])
    m = actors["manager"]
    assert {x["id"] for x in search(db, m, CustomerFilters()).rows} == {old["id"], fresh["id"]}
    assert [x["id"] for x in search(db, m, CustomerFilters(archived="archived")).rows] == [gone["id"]]
    assert search(db, m, CustomerFilters(archived="all")).total == 3
    assert [x["id"] for x in search(db, m, CustomerFilters(not_reviewed_days=365)).rows] == [old["id"]]
    today = local_today()
    assert search(db, m, CustomerFilters(created_from=today, created_to=today)).total == 2
    assert search(db, m, CustomerFilters(created_to=today - timedelta(days=1))).total == 0


def test_rows_carry_their_primary_contact(make_customer, actors, db):
    c = make_customer(contact_name="张三", contact_title="采购经理", contact_phone="13800138000")
    row = search(db, actors["manager"], CustomerFilters(text="张三")).rows[0]
    assert (row["id"], row["contact_name"], row["contact_title"]) == (c["id"], "张三", "采购经理")


def test_duplicates_by_uscc_phone_and_similar_name_hide_others_files(make_customer, actors, db):
    theirs = make_customer("sales2", name="厦门银行股份有限公司", uscc="91110108551385082Q",
                           phone="0592-5389999")
    mine = make_customer("sales", name="重庆长安汽车股份有限公司", contact_phone="13900001111")
    found = find_duplicates(db, actors["sales"], {"name": "厦门银行有限公司", "uscc": "91110108551385082Q"})
    assert [m.code for m in found] == [theirs["code"]]
    assert "uscc" in found[0].reasons and found[0].visible is False and found[0].id is None
    assert found[0].owner == "sales2"
    by_phone = find_duplicates(db, actors["sales"], {"name": "别的名字", "phone": "139 0000 1111"})
    assert [(m.id, m.reasons) for m in by_phone] == [(mine["id"], ("phone",))]
    similar = find_duplicates(db, actors["manager"], {"name": "重庆长安汽车有限公司"})
    assert similar and similar[0].id == mine["id"] and similar[0].visible
    assert find_duplicates(db, actors["manager"], {"name": "完全不同的名字"}) == []


@pytest.mark.parametrize("filters", [
    CustomerFilters(text="\ud800"), CustomerFilters(text="厦门 \udcff"), CustomerFilters(choices={"tier": ("\ud800",)}),
])
def test_a_lone_surrogate_is_a_validation_error(make_customer, actors, db, filters):
    make_customer()
    with pytest.raises(ValidationError) as ei:
        search(db, actors["manager"], filters)
    assert ei.value.problems[0].key == "validation.control_chars"
    with pytest.raises(ValidationError):
        customer_analytics(db, actors["manager"], filters)
    with pytest.raises(ValidationError):
        find_duplicates(db, actors["manager"], {"name": "\ud800"})
