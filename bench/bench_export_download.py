"""What a download from the customers page costs the Streamlit server: its RSS before, right
after and some script runs after a click on "导出 CSV" / "导出 Excel" (every customer, as
the manager), in a real server and Chromium.

    .venv/bin/python bench/bench_export_download.py --db /tmp/dbs/k100.duckdb --format csv

The database is copied first (the export writes an audit entry). The server's search
index is built in the background after the first request (README, "Memory"): the
baseline is taken once the server's RSS has been steady for a few seconds. VmHWM is the
server's peak RSS so far. Prints one line per measurement.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.core.i18n import t  # noqa: E402
from tests.browser import util  # noqa: E402


def memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in MiB."""
    values = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) // 1024
    return values["VmRSS"], values["VmHWM"]


def steady(pid: int, seconds: float = 4, limit: float = 120) -> tuple[int, int]:
    """Wait until the RSS has changed by less than 2 MiB for ``seconds``."""
    deadline = time.monotonic() + limit
    last, since = memory(pid)[0], time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = memory(pid)[0]
        if abs(now - last) >= 2:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            break
    return memory(pid)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    ap.add_argument("--user", default="manager")
    ap.add_argument("--work", default="/tmp/bench-export-download")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "app.duckdb"
    shutil.copyfile(args.db, db_path)
    server = util.start_server("bench-export", db_path, log_path=work / "server.log")
    pid = server.process.pid
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=util.CHROMIUM, headless=True, args=util.CHROMIUM_ARGS)
            page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
            page.set_default_timeout(120_000)
            util.login(page, server.base_url, args.user, path="customers", timeout=120_000)
            page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
            rss, hwm = steady(pid)
            print(f"before the click         RSS {rss:5d} MiB  peak {hwm:5d} MiB", flush=True)
            started = time.perf_counter()
            with page.expect_download(timeout=900_000) as download:
                page.get_by_role("button", name=t(f"export.{args.format}", "zh")).click()
            target = work / f"download.{args.format}"
            download.value.save_as(target)
            seconds = time.perf_counter() - started
            rss, hwm = memory(pid)
            size = target.stat().st_size / 2**20
            print(f"file received ({seconds:5.1f} s, {size:6.1f} MiB)  RSS {rss:5d} MiB  peak {hwm:5d} MiB", flush=True)
            for i in range(1, 4):  # script runs after the download: Streamlit drops unreferenced files
                util.search_for(page, "" if i % 2 == 0 else "有限公司")
                rss, hwm = steady(pid)
                print(f"after {i} more run(s)       RSS {rss:5d} MiB  peak {hwm:5d} MiB", flush=True)
            browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
