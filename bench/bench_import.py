"""Import of a 100,000-row file (issue 9): time and peak memory.

Writes a GBK CSV (Chinese headers, as another system exports it) of ``--rows`` new
customers — company name, phone, contact, mobile, industry and tier by label, status,
region — then, each in a fresh child process on a copy of ``--db``:

* ``dry run``: ``python -m lib.cli import FILE --user manager`` (read, map, validate
  every row, look-alikes; writes nothing)
* ``import``: the same with ``--apply`` (one transaction)
* ``plain``: the naive anchor, pandas reading the same file (GB18030) and DuckDB
  storing it as a table of its own (no validation, no codes, no audit, no search text):
  what loading the bytes costs at all. (DuckDB's own ``read_csv`` reads GB18030 only
  with its ``encodings`` extension, which this machine cannot download.)

Wall time and the child's peak RSS (``ru_maxrss``) are printed and saved as JSON in
bench/results/. Then a search for a name of the file checks the rows arrived.

    .venv/bin/python bench/bench_import.py --db /tmp/dbs/k100.duckdb --rows 100000
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lib.ops.demo.generator import mobile as demo_mobile  # noqa: E402  (valid mobile numbers)
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "南京", "厦门", "成都", "武汉", "西安", "苏州", "青岛"]
WORDS = ["华信", "恒通", "金达", "瑞丰", "鼎盛", "宏远", "嘉禾", "天成", "永利", "博雅", "中联", "新创"]
TRADES = ["科技", "贸易", "电子", "机械", "物流", "食品", "建材", "医药", "信息技术", "化工"]
INDUSTRIES = ["制造业", "批发和零售业", "信息传输、软件和信息技术服务业", "金融业", "Construction", "J", "C"]
TIERS = ["A", "B", "C", "重要客户"]


def write_file(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    lines = ["客户名称,公司电话,联系人,手机,行业,客户等级,状态,备注"]
    for i in range(rows):
        name = f"{rng.choice(CITIES)}{rng.choice(WORDS)}{rng.choice(TRADES)}{i}有限公司"
        phone = f"0{rng.choice(['10', '21', '20', '755', '571', '25'])}-{rng.choice('68')}{rng.randrange(0, 10**7):07d}"
        mobile = demo_mobile(rng)
        tier = rng.choice(TIERS[:3])
        lines.append(f"{name},{phone},联系人{i},{mobile},{rng.choice(INDUSTRIES[:5])},{tier},active,导入测试")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))


def run_child(argv: list[str]) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, last lines) of a child process."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, (out + err)[-400:]


def plain_child(db: str, file: str) -> list[str]:
    code = ("import duckdb,sys,pandas; c=duckdb.connect(sys.argv[1]);"
            " df=pandas.read_csv(sys.argv[2], encoding='gb18030', dtype=str);"
            " c.execute('CREATE TABLE plain_import AS SELECT * FROM df');"
            " print(c.execute('SELECT count(*) FROM plain_import').fetchone()[0])")
    return [sys.executable, "-c", code, db, file]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a database to copy (never written)")
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_import_"))
    try:
        file = work / "customers_gbk.csv"
        write_file(file, args.rows)
        results = {"rows": args.rows, "file_mb": round(file.stat().st_size / 1e6, 1)}
        cli = [sys.executable, "-m", "lib.cli"]
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run the smallest first.
        for label, extra in (("plain", None), ("dry run", []), ("import", ["--apply"])):
            copy = work / "copy.duckdb"
            shutil.copy(args.db, copy)
            wal = Path(args.db + ".wal")
            if wal.exists():
                shutil.copy(wal, str(copy) + ".wal")
            argv = plain_child(str(copy), str(file)) if extra is None else \
                [*cli, "--db", str(copy), "import", str(file), "--user", "manager", "--confirm-warnings", *extra]
            seconds, rss, rc, tail = run_child(argv)
            results[label] = {"seconds": round(seconds, 1), "peak_rss_mb_so_far": round(rss), "exit": rc}
            print(f"{label:8s} {seconds:7.1f} s  peak RSS (largest child so far) {rss:7.0f} MB  exit {rc}")
            if rc != 0:
                print(tail)
            if label == "import":
                from lib.core.db import Database
                from lib.customers import search

                db = Database(copy)
                try:
                    actor = db.actor("manager", "manager")
                    found = search.search(db, actor, search.CustomerFilters(text=f"{args.rows - 1}有限公司"))
                    results["found_last_row"] = found.total
                    print(f"search for the last row's name: {found.total} found")
                finally:
                    db.close()
        out = ROOT / "bench" / "results" / f"import-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
        print(f"saved {out.relative_to(ROOT)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
