"""The in-memory search index gives what the SQL gives: the same totals, the same rows
in the same relevance order on every page, the same scoping; and it keeps up with
writes (a save is found by the very next search) and rebuilds after a bulk load."""
from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from lib.customers import contacts as ct
from lib.customers import customer as cs
from lib.customers import search as S
from lib.customers import search_index as SI
from lib.customers.search import CustomerFilters, PageRequest, search
from lib.core.text import pinyin_keys
from lib.ops.demo import loader

NOW = datetime(2026, 6, 1, 9, 0)


@pytest.fixture
def demo_db(db):
    loader.generate(db, 600, seed=3, now=NOW, chunk_size=200, workers=1)
    return db


def plain(db, actor, filters, size=20):
    """The plain full-scan query for the same answer: count, then every matching id in
    relevance order (the SQL the service falls back to)."""
    where, params = S.where_clause(actor, filters)
    order, order_params = S._order_sql("relevance", filters)
    with db.read() as cur:
        total = cur.execute(f"SELECT count(*) FROM customers c WHERE {where}", params).fetchone()[0]
        ids = [r[0] for r in cur.execute(f"SELECT c.id FROM customers c WHERE {where} ORDER BY {', '.join(order)}",
                                         [*params, *order_params]).fetchall()]
    return total, ids


def walk(db, actor, filters, size=20, pages=4):
    """Ids of the first ``pages`` pages, and the total; then back one page."""
    ids, page, result = [], PageRequest(size=size), None
    for _ in range(pages):
        result = search(db, actor, filters, sort="relevance", page=page)
        ids += [r["id"] for r in result.rows]
        if not result.next_cursor:
            break
        page = PageRequest(size=size, after=result.next_cursor)
    back = None  # the page before the last one, reached backwards
    if result.prev_cursor:
        start = len(ids) - len(result.rows)
        back = ([r["id"] for r in search(db, actor, filters, sort="relevance",
                                         page=PageRequest(size=size, before=result.prev_cursor)).rows],
                start)
    return result.total, ids, back


def terms_from(db, rng, n):
    """Query strings as people type them, cut from real haystacks."""
    with db.read() as cur:
        texts = [r[0] for r in cur.execute("SELECT search_text FROM customers ORDER BY id").fetchall()]
    out = ["司", "科技", "xm", "138", "zzzz-nothing", "公司 科技"]
    for _ in range(n):
        part = rng.choice(rng.choice(texts).split("\x1f"))
        if not part:
            continue
        a = rng.randrange(len(part))
        out.append(part[a:a + rng.randint(1, 6)].strip() or part)
        out.append(part)  # a whole part: name, code, pinyin, phone...
    return [t for t in out if t.strip()]


@pytest.mark.parametrize("path", ["few rows", "many rows, gathered", "many rows, walked in key order"])
def test_index_answers_like_the_sql_for_random_queries_roles_and_filters(demo_db, actors, monkeypatch, path):
    # Each way the index finds a page, forced for every term: the rows of the terms
    # filtered one by one and all ranked; or whole columns filtered and a page taken a
    # rank at a time, each rank's rows gathered and sorted or walked in key order.
    monkeypatch.setattr(SI, "_DENSE", 0 if path == "few rows" else 10**9)
    monkeypatch.setattr(SI, "_WALK_ABOVE", 10**9 if path.endswith("key order") else 0)
    db = demo_db
    assert SI.index(db).current() is not None  # small base: built on first use
    rng = random.Random(8)
    filters_choices = [{}, {"tier": ("A", "B")}, {"status": ("active",)}]
    for term in terms_from(db, rng, 40):
        for who in ("manager", "sales"):
            f = CustomerFilters(text=term, choices=rng.choice(filters_choices),
                                archived=rng.choice(["active", "active", "all", "archived"]),
                                created_from=rng.choice([None, date(2025, 1, 1)]))
            total, ids = plain(db, actors[who], f)
            got_total, got, back = walk(db, actors[who], f)
            assert got_total == total, (term, who)
            assert got == ids[:len(got)], (term, who)
            if back is not None:
                rows, start = back
                assert rows == ids[start - 20:start], (term, who)


def test_many_customers_saved_since_the_build_are_scoped_filtered_and_ranked_like_the_sql(demo_db, actors):
    # The customers saved since the build wait beside the array, narrowed by owner and
    # by each term before each is tested in full: every answer is still the SQL's.
    db, manager = demo_db, actors["manager"]
    idx = SI.index(db)
    assert idx.current() is not None
    rng = random.Random(11)
    owners = ["sales", "sales2", "manager"]
    for rec in rng.sample(search(db, manager, CustomerFilters(archived="all"), page=PageRequest(size=500)).rows, 90):
        changes = {"owner": rng.choice(owners), "tier": rng.choice(["A", "B", "C"])}
        if rng.random() < 0.4:  # a name that shares terms with many others, or with none
            changes["name"] = rng.choice([f"{rec['name']}科技分部", f"鹭江{rng.randint(10, 99)}号贸易商行"])
        saved = cs.update_customer(db, manager, rec["id"], changes, rec["version"])
        if rng.random() < 0.15:
            cs.archive_customer(db, manager, rec["id"], saved["version"])
    for i in range(10):
        cs.create_customer(db, manager, {"name": f"鹭江新设{i}号科技有限公司", "tier": "A",
                                         "owner": rng.choice(owners)})
    assert len(idx.current().rows) == 100  # all of them beside the array
    filters_choices = [{}, {"tier": ("A", "B")}, {"status": ("active",)}]
    for term in ["鹭江", "科技", "号", *terms_from(db, rng, 25)]:
        for who in ("manager", "sales", "sales2"):
            f = CustomerFilters(text=term, choices=rng.choice(filters_choices),
                                archived=rng.choice(["active", "active", "all", "archived"]))
            total, ids = plain(db, actors[who], f)
            got_total, got, _ = walk(db, actors[who], f)
            assert (got_total, got) == (total, ids[:len(got)]), (term, who, f)


def test_a_save_is_found_by_the_next_search_and_old_values_are_not(demo_db, actors):
    db, manager = demo_db, actors["manager"]
    idx = SI.index(db)
    assert idx.current() is not None
    new = cs.create_customer(db, manager, {"name": "鹭岛量子纠缠研究有限公司", "industry": "I",
                                           "tier": "A", "owner": "sales", "phone": "0592-7778888"})
    assert [r["id"] for r in search(db, manager, CustomerFilters(text="量子纠缠")).rows] == [new["id"]]
    initials = pinyin_keys("鹭岛量子纠缠")[1]
    assert search(db, actors["sales"], CustomerFilters(text=initials)).total == 1  # sales' own customer

    old = search(db, manager, CustomerFilters(text="公司")).rows[5]
    renamed = cs.update_customer(db, manager, old["id"], {"name": "星河引力波观测站"}, old["version"])
    assert search(db, manager, CustomerFilters(text="引力波")).rows[0]["id"] == old["id"]
    assert old["id"] not in [r["id"] for r in search(db, manager, CustomerFilters(text=old["name"])).rows]

    cs.archive_customer(db, manager, renamed["id"], renamed["version"])
    assert search(db, manager, CustomerFilters(text="引力波")).total == 0
    assert search(db, manager, CustomerFilters(text="引力波", archived="archived")).total == 1

    ct.add_contact(db, manager, new["id"], {"contact_name": "欧阳锋锐", "contact_mobile": "13912345678"})
    assert [r["id"] for r in search(db, manager, CustomerFilters(text="欧阳锋锐")).rows] == [new["id"]]

    for term in ["公司", "量子", "138", "a"]:  # and every answer still equals the SQL's
        f = CustomerFilters(text=term)
        total, ids = plain(db, manager, f)
        res = search(db, manager, f, page=PageRequest(size=50))
        assert (res.total, [r["id"] for r in res.rows]) == (total, ids[:50])
    assert idx.current().delta  # answered with the changed rows beside the array


def test_a_bulk_load_rebuilds_the_index(demo_db, actors):
    db, manager = demo_db, actors["manager"]
    idx = SI.index(db)
    before = idx.current()
    loader.generate(db, 100, seed=4, now=NOW, chunk_size=50, workers=1)
    assert idx._state is None  # everything changed: not answered from the old array
    f = CustomerFilters(text="公司")
    assert search(db, manager, f).total == plain(db, manager, f)[0]
    assert idx.current() is not before and idx.current().base.n == 700


def test_a_database_opened_again_builds_from_what_is_stored(demo_db, actors, db_path):
    manager = actors["manager"]
    cs.create_customer(demo_db, manager, {"name": "重开验证实业有限公司", "owner": "manager"})
    demo_db.close()
    from lib.core.db import Database

    again = Database(db_path)
    try:
        assert search(again, again.actor("manager", "manager"), CustomerFilters(text="重开验证")).total == 1
        assert SI.index(again).current().base.n == 601
    finally:
        again.close()


def test_many_changed_customers_rebuild_the_array_and_lose_no_save(demo_db, actors, monkeypatch):
    db, manager = demo_db, actors["manager"]
    idx = SI.index(db)
    first = idx.current()
    monkeypatch.setattr(SI, "REBUILD_AFTER", 2)
    made = [cs.create_customer(db, manager, {"name": f"重建测试{i}号商行", "owner": "manager"}) for i in range(3)]
    assert search(db, manager, CustomerFilters(text="重建测试")).total == 3  # from the delta
    builder = idx._building
    assert builder is not None
    builder.join(60)
    made.append(cs.create_customer(db, manager, {"name": "重建测试3号商行", "owner": "manager"}))
    state = idx.current()
    assert state.base is not first.base and state.base.n == 603  # the rebuilt array has the first three
    assert set(state.delta) == {made[-1]["id"]}  # the save after it waits beside it
    res = search(db, manager, CustomerFilters(text="重建测试"))
    assert sorted(r["id"] for r in res.rows) == sorted(c["id"] for c in made) and res.total == 4


def test_listed_records_are_never_older_than_the_last_save(demo_db, actors):
    db, manager = demo_db, actors["manager"]
    f = CustomerFilters(text="公司")
    shown = search(db, manager, f).rows[0]
    assert search(db, manager, f).rows[0] == shown  # the second page view comes from the cache
    saved = cs.update_customer(db, manager, shown["id"], {"notes": "新备注", "tier": "A"}, shown["version"])
    again = next(r for r in search(db, manager, f).rows if r["id"] == shown["id"])
    assert (again["notes"], again["tier"], again["version"]) == ("新备注", "A", saved["version"])
    ct.add_contact(db, manager, shown["id"], {"contact_name": "司马新", "contact_mobile": "13912340000"},
                   primary=True)
    again = next(r for r in search(db, manager, f).rows if r["id"] == shown["id"])
    assert again["contact_name"] == "司马新"


def test_rows_read_before_a_write_are_not_kept():
    from lib.customers.search import RecordCache

    class FakeDb:
        def on_commit(self, topic, listen):
            self.listen = listen

    fake = FakeDb()
    cache = RecordCache(fake)
    seen = cache.version()
    fake.listen([7])  # a write to customer 7 commits while the page is being read
    cache.put([{"id": 7, "name": "old"}], seen)
    assert cache.get([7]) == {}
    cache.put([{"id": 7, "name": "new"}], cache.version())
    assert cache.get([7]) == {7: {"id": 7, "name": "new"}}
    fake.listen([None])  # everything changed
    assert cache.get([7]) == {}


def test_closing_the_database_while_the_index_builds_in_the_background(demo_db, db_path, monkeypatch):
    from lib.core.db import Database

    monkeypatch.setattr(SI, "SYNC_ROWS", 0)  # build in the background, as on a large base
    other = Database(db_path)
    idx = SI.index(other)
    assert idx.build() is None  # not ready yet: searches use the SQL meanwhile
    other.close()  # interrupts a build still reading; never "connection is busy"
    assert idx.current() is None


def test_after_a_restore_the_index_holds_the_restored_customers(demo_db, actors, db_path, tmp_path):
    from lib.core.db import Database
    from lib.ops import backup as bk

    db, manager = demo_db, actors["manager"]
    kept = cs.create_customer(db, manager, {"name": "备份之前实业有限公司", "owner": "manager"})
    assert search(db, manager, CustomerFilters(text="备份之前")).total == 1  # the index is built and used
    bk.backup(db, tmp_path / "b.duckdb")
    cs.update_customer(db, manager, kept["id"], {"name": "备份之后实业有限公司"}, kept["version"])
    cs.create_customer(db, manager, {"name": "备份之后新建商行", "owner": "manager"})
    assert search(db, manager, CustomerFilters(text="备份之后")).total == 2
    db.close()

    bk.restore(tmp_path / "b.duckdb", db_path)
    restored = Database(db_path)
    try:
        who = restored.actor("manager", "manager")
        assert [r["id"] for r in search(restored, who, CustomerFilters(text="备份之前")).rows] == [kept["id"]]
        assert search(restored, who, CustomerFilters(text="备份之后")).total == 0
        assert SI.index(restored).current().base.n == 601
        f = CustomerFilters(text="公司")
        assert search(restored, who, f).total == plain(restored, who, f)[0]
    finally:
        restored.close()


def _base_of(texts: list[str]) -> SI._Base:
    """An index base over ``texts`` alone (customer i+1 has texts[i]), no database."""
    import pyarrow as pa

    n = len(texts)
    cols = {"id": pa.array(range(1, n + 1), pa.int64()), "search_text": pa.array(texts, pa.string()),
            "owner": pa.array(["sales"] * n), "archived": pa.array([False] * n), "live": pa.array([True] * n),
            "created_us": pa.array([0] * n, pa.int64()), "reviewed_us": pa.array([None] * n, pa.int64()),
            "updated_us": pa.array(range(n), pa.int64()), "credit_cents": pa.array([None] * n, pa.int64())}
    cols.update({c: pa.array(["x"] * n) for c in SI._columns()})
    return SI._Base(pa.table(cols))


@pytest.mark.parametrize("code_bits, look_before_per_byte", [(8, 10**9), (2, 10**9), (0, 10**9), (8, 0)])
def test_the_array_of_even_suffixes_finds_every_occurrence_at_any_byte_offset(monkeypatch, code_bits,
                                                                              look_before_per_byte):
    # The array lists only suffixes at even byte offsets; multi-byte characters (2, 3, 4
    # bytes), separators and empty haystacks shift the rest to odd ones. Every substring
    # (and every prefix, for the rank's "starts with") must be found as a plain scan finds
    # it: in the first and the last haystack, never across two of them. The byte before
    # an entry is coded in its spare bits: a code for each byte (8), a few bytes sharing
    # code 0 (2), none at all (0, a text too long to leave a bit) give the same answers.
    # An odd occurrence is found either from the term's rest or (look_before_per_byte=0) as
    # each byte of the text followed by the term.
    monkeypatch.setattr(SI, "_MAX_CODE_BITS", code_bits)
    monkeypatch.setattr(SI, "_LOOK_BEFORE_PER_BYTE", look_before_per_byte)
    rng = random.Random(5)
    alphabet = ["a", "b", "1", "\x1f", "华", "门", "é", "😀"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7))) for _ in range(300)]
    texts[0], texts[-1] = "华a1", "b门😀"
    base = _base_of(texts)
    patterns = {t[i:j] for t in texts for i in range(len(t)) for j in range(i + 1, min(len(t), i + 4) + 1)}
    patterns |= {"华华华", "zz", "1华", "a\x1f", "😀b", "b门😀", "华a1"}
    for p in sorted(patterns):
        assert sorted(set(base.rows_with(p).tolist())) == [i for i, t in enumerate(texts) if p in t], p
        assert sorted(set(base.rows_with(p, at_start=True).tolist())) == \
            [i for i, t in enumerate(texts) if t.startswith(p)], p
    assert len(_base_of([]).rows_with("a")) == 0
    assert _base_of([""]).rows_with("a").tolist() == []
    assert _base_of(["a"]).rows_with("a").tolist() == [0]


def test_a_large_text_is_sorted_in_a_child_process_with_the_same_result(demo_db, actors, monkeypatch):
    from lib.customers import suffix_sort

    text = "".join(random.Random(2).choice(["a", "b", "\x1f", "华"]) for _ in range(5000)).encode()
    assert suffix_sort.sort_in_child(text).tolist() == suffix_sort.even_suffixes(text).tolist()
    started = []
    monkeypatch.setattr(suffix_sort, "CHILD_BYTES", 0)  # as for a million customers
    monkeypatch.setattr(suffix_sort, "sort_in_child",
                        lambda t, on_start=None, real=suffix_sort.sort_in_child: started.append(len(t)) or real(t))
    db, manager = demo_db, actors["manager"]
    assert SI.index(db).current() is not None and started
    f = CustomerFilters(text="公司")
    assert search(db, manager, f).total == plain(db, manager, f)[0]


def _sql_only(monkeypatch):
    """As while the index is not built: the callers use the SQL."""
    monkeypatch.setattr(SI.SearchIndex, "ids_containing", lambda self, patterns=(), *, starts=(): None)


def _found(db, actor, values, exclude_id=None):
    return sorted((m.code, m.reasons, round(m.score, 3), m.visible)
                  for m in S.find_duplicates(db, actor, values, exclude_id=exclude_id, limit=200))


def test_the_entry_duplicate_check_finds_through_the_index_what_the_sql_finds(demo_db, actors, monkeypatch):
    db, manager = demo_db, actors["manager"]
    assert SI.index(db).current() is not None
    ct.add_contact(db, manager, 7, {"contact_name": "欧阳锋锐", "contact_phone": "0592-7654321"})  # a delta row
    with db.read() as cur:
        rows = cur.execute("SELECT c.id, c.name, c.uscc, c.phone, p.phone FROM customers c"
                           " LEFT JOIN contacts p ON p.customer_id = c.id AND p.is_primary AND NOT p.deleted"
                           " WHERE c.merged_into IS NULL ORDER BY c.id LIMIT 60").fetchall()
    asked = [{"name": "某某新客户有限公司", "contact_phone": "05927654321"}]  # the new contact's phone
    for cid, name, uscc, phone, contact_phone in rows:
        asked += [{"name": name}, {"name": name.upper() + " "}, {"name": name[:-2] + "集团"},
                  {"name": "另一家公司", "phone": phone}, {"name": "另一家公司", "contact_phone": contact_phone},
                  {"name": "另一家公司", "uscc": uscc}, {"name": pinyin_keys(name)[0]}]
    with_index = [(_found(db, manager, v), _found(db, actors["sales"], v), _found(db, manager, v, exclude_id=7))
                  for v in asked]
    _sql_only(monkeypatch)
    by_sql = [(_found(db, manager, v), _found(db, actors["sales"], v), _found(db, manager, v, exclude_id=7))
              for v in asked]
    assert with_index == by_sql
    assert sum(bool(found[0]) for found in with_index) > len(rows) * 5  # most questions find something
    assert any("phone" in m[1] for m in with_index[0][0])  # the contact added after the build


def test_an_exact_match_is_compared_before_customers_that_only_share_part_of_the_name(demo_db, actors,
                                                                                       monkeypatch):
    db, manager = demo_db, actors["manager"]
    for suffix in ("一部", "二部", "三部", "四部"):  # older customers whose text holds the new name's core
        cs.create_customer(db, manager, {"name": f"鹭岛测试贸易{suffix}", "owner": "sales"})
    same = cs.create_customer(db, manager, {"name": "鹭岛测试贸易有限公司", "owner": "sales"})
    assert SI.index(db).current() is not None
    monkeypatch.setattr(S, "_DUPLICATE_CANDIDATES", 3)  # fewer candidates than customers with the core
    found = S.find_duplicates(db, manager, {"name": "鹭岛测试贸易有限公司"})
    assert [m.code for m in found if "name" in m.reasons] == [same["code"]]


def test_a_filter_field_added_after_the_build_is_filtered_like_the_sql(demo_db, actors):
    # An administrator adds a choice field as a filter while the index is built: the
    # index holds no column for it, so it is built again with it (SQL meanwhile), and a
    # text search filtered by it answers as the SQL does.
    from lib.customers import custom_fields, reference_admin

    db, manager = demo_db, actors["manager"]
    assert SI.index(db).current() is not None
    custom_fields.add_field(db, actors["admin"], key="channel", label_zh="渠道", label_en="Channel",
                            kind="choice", edit_roles=list(db.roles()), filter=True,
                            choices=[("线上", "Online"), ("线下", "Offline")])
    codes = [item.code for item in reference_admin.items(db, "cf_channel")]
    some = search(db, manager, CustomerFilters(text="公司"), sort="relevance", page=PageRequest(size=7)).rows
    for row in some:
        cs.update_customer(db, manager, row["id"], {"cf_channel": codes[0]}, expected_version=row["version"])
    filters = CustomerFilters(text="公司", choices={"cf_channel": (codes[0],)})
    result = search(db, manager, filters, sort="relevance", page=PageRequest(size=50))
    assert SI.index(db).current() is not None  # answered by a rebuilt index holding the column
    assert sorted(r["id"] for r in result.rows) == sorted(r["id"] for r in some)
    total, ids = plain(db, manager, filters)
    assert (result.total, [r["id"] for r in result.rows]) == (total, ids)
