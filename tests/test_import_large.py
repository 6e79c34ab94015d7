"""A 100,000-row file, as the issue's files come (GBK CSV, Chinese headings, labels and
codes for list values), imported in one transaction: every row arrives, with its code,
contact and audit entry, and the last one is found by search. (Its speed is measured by
bench/bench_import.py, not here.)"""
from __future__ import annotations

import random

from lib.customers import importing as imp
from lib.customers import search
from lib.customers.sheets import read_sheet
from lib.ops.demo.generator import mobile

ROWS = 100_000


def test_a_100000_row_gbk_file_imports_whole(db, actors):
    rng = random.Random(5)
    lines = ["客户名称,公司电话,联系人,手机,行业,客户等级,状态"]
    for i in range(ROWS):
        lines.append(f"十万行{i}贸易有限公司,010-6{i:07d},联系人{i},{mobile(rng)},"
                     f"{rng.choice(['制造业', 'F', 'Finance'])},{rng.choice('ABC')},active")
    sheet = read_sheet("\r\n".join(lines).encode("gbk"), header_score=imp.names_a_field)
    assert len(sheet.rows) == ROWS and sheet.encoding == "gb18030"
    out = imp.run_import(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers), confirm=imp.ALL_WARNINGS)
    assert (out.new, out.failing, out.clean, len(set(out.codes))) == (ROWS, 0, True, ROWS)
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM customers").fetchone()[0] == ROWS
        assert cur.execute("SELECT count(*) FROM contacts WHERE is_primary").fetchone()[0] == ROWS
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'create'").fetchone()[0] == ROWS
    found = search.search(db, actors["manager"], search.CustomerFilters(text=f"十万行{ROWS - 1}贸易"))
    assert [r["code"] for r in found.rows] == [out.codes[-1]]
