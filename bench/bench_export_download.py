"""What a download from the customers page costs the server: its RSS before, during (peak)
and after a click on "导出 CSV" / "导出 Excel" (every customer, as the manager), and how
long until the download starts and until the file is complete, in a real server
(``server.py``, the download route) and Chromium. With ``--cancel-after S`` the download
is cancelled in the browser after S seconds, and the server's CPU time over the next
seconds shows whether the export stopped.

    .venv/bin/python bench/bench_export_download.py --db /tmp/dbs/k100.duckdb --format csv

The database is copied first (the export writes an audit entry). The server's search
index is built in the background after the first request (README, "Memory"): the
baseline is taken once the server's RSS has been steady for a few seconds. VmHWM is the
server's peak RSS so far. Prints one line per measurement.
"""
from __future__ import annotations

import argparse
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


class Peak:
    """The highest RSS of ``pid`` sampled every 0.2 s between start() and stop()."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.high, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.high = max(self.high, memory(self.pid)[0])
            time.sleep(0.2)

    def start(self) -> "Peak":
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.high


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    ap.add_argument("--user", default="manager")
    ap.add_argument("--work", default="/tmp/bench-export-download")
    ap.add_argument("--times", type=int, default=1, help="downloads one after the other")
    ap.add_argument("--cancel-after", type=float, default=None, help="cancel the download after this many seconds")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "app.duckdb"
    db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)  # a last run's log is not this copy's
    util.copy_db(Path(args.db), db_path)
    server = util.start_server("bench-export", db_path, log_path=work / "server.log")
    pid = server.process.pid
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=util.CHROMIUM, headless=True, args=util.CHROMIUM_ARGS)
            page = util.watch_runs(browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page())
            page.set_default_timeout(120_000)
            util.login(page, server.base_url, args.user, path="customers", timeout=120_000)
            page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
            rss, hwm = steady(pid)
            print(f"before the click         RSS {rss:5d} MiB  peak {hwm:5d} MiB", flush=True)
            for n in range(1, args.times + 1):
                peak = Peak(pid).start()
                started = time.perf_counter()
                with page.expect_download(timeout=900_000) as download:
                    page.get_by_role("link", name=t(f"export.{args.format}", "zh")).click()
                first = time.perf_counter() - started
                print(f"download {n} started after {first:5.1f} s", flush=True)
                if args.cancel_after is not None:
                    time.sleep(max(0.0, args.cancel_after - first))
                    download.value.cancel()
                    cpu = cpu_seconds(pid)
                    time.sleep(5)
                    rss, hwm = memory(pid)
                    peak.stop()
                    print(f"cancelled at {time.perf_counter() - started:5.1f} s; server CPU over the next 5 s"
                          f" {cpu_seconds(pid) - cpu:4.1f} s; RSS {rss:5d} MiB  peak {hwm:5d} MiB", flush=True)
                else:
                    target = work / f"download.{args.format}"
                    download.value.save_as(target)  # waits for the whole file
                    seconds = time.perf_counter() - started
                    rss, hwm = memory(pid)
                    size = target.stat().st_size / 2**20
                    print(f"file complete ({seconds:5.1f} s, {size:6.1f} MiB)  RSS {rss:5d} MiB  peak {hwm:5d} MiB"
                          f"  (sampled peak during the download {peak.stop()} MiB)", flush=True)
            for i in range(1, 4):
                util.search_for(page, "" if i % 2 == 0 else "有限公司")
                rss, hwm = steady(pid)
                print(f"after {i} more run(s)       RSS {rss:5d} MiB  peak {hwm:5d} MiB", flush=True)
            browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
