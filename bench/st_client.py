"""A light Streamlit client: one browser tab's conversation with a Streamlit server,
spoken in Streamlit's own websocket protocol (the protobuf classes that ship inside the
installed ``streamlit`` package), without a browser. Used by ``bench_load.py``.

What a browser tab does, and so what this does:
- connect to ``/_stcore/stream`` (subprotocol ``streamlit``) and send a ``rerun_script``
  BackMsg carrying the ``ClientState``: the page (``page_script_hash``), the URL's query
  string, the widget values, the browser's locale and time zone;
- receive ForwardMsgs: ``new_session`` starts a script run, ``delta`` messages draw it
  element by element at a ``delta_path``, ``navigation`` lists the pages, and
  ``script_finished`` ends the run (``FINISHED_EARLY_FOR_RERUN`` when the script
  itself asked for another run, which follows at once).

A widget is found by what the script gave it: its user key (the element id of a keyed
widget ends with ``-<key>``) or its label; ids are never hard-coded. Only the widgets
this client changes are sent (plus the button pressed); the server keeps the others'
values from the last run, as it does for a browser's.

``rerun`` returns when the run this request started has finished successfully: the
server-side time of one action is from sending the BackMsg to that ``script_finished``.
"""
from __future__ import annotations

import asyncio
import io
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN


class ClientError(Exception):
    """The server did something a browser would show as a failure (disconnect, timeout,
    a run that never finished)."""


@dataclass
class Element:
    path: tuple[int, ...]
    type: str
    proto: Any  # the element's own message (e.g. TextInput)

    @property
    def id(self) -> str:
        return getattr(self.proto, "id", "") or ""

    @property
    def label(self) -> str:
        return getattr(self.proto, "label", "") or ""

    @property
    def text(self) -> str:
        for name in ("body", "label", "value"):
            v = getattr(self.proto, name, None)
            if isinstance(v, str) and v:
                return v
        return ""

    def key_is(self, key: str) -> bool:
        return self.id.endswith("-" + key)


@dataclass
class Run:
    """What one script run drew (the current page as a browser shows it once idle)."""
    elements: dict[tuple[int, ...], Element] = field(default_factory=dict)
    page_not_found: bool = False

    def all(self) -> list[Element]:
        return [self.elements[p] for p in sorted(self.elements)]

    def of_type(self, kind: str) -> list[Element]:
        return [e for e in self.all() if e.type == kind]

    def by_key(self, key: str) -> Element | None:
        return next((e for e in self.all() if e.key_is(key)), None)

    def by_key_pattern(self, pattern: str) -> list[Element]:
        rx = re.compile(pattern)
        return [e for e in self.all() if e.id and rx.search(e.id)]

    def submit_button(self, form_id: str) -> Element | None:
        """The (first) submit button of the form ``form_id`` (an unkeyed one's id
        carries its label, which is translated)."""
        return next((e for e in self.of_type("button") if e.proto.form_id == form_id and e.proto.is_form_submitter),
                    None)

    def by_label(self, label: str, kind: str | None = None) -> Element | None:
        return next((e for e in self.all() if e.label == label and (kind is None or e.type == kind)), None)

    def texts(self) -> list[str]:
        return [e.text for e in self.all() if e.text]

    def text(self) -> str:
        return "\n".join(self.texts())

    def alerts(self, fmt: int) -> list[str]:
        return [e.proto.body for e in self.of_type("alert") if e.proto.format == fmt]

    def errors(self) -> list[str]:
        """What a person would read as a failure: an exception, an error alert."""
        out = [f"exception: {e.proto.type}: {e.proto.message}" for e in self.of_type("exception")]
        out += [f"error: {b}" for b in self.alerts(Alert.ERROR)]
        if self.page_not_found:
            out.append("page not found")
        return out

    def toasts(self) -> list[str]:
        return [e.proto.body for e in self.of_type("toast")]

    def grid_rows(self) -> list[dict]:
        """The rows of the first data editor / dataframe on the page (its Arrow data)."""
        import pyarrow as pa

        for e in self.of_type("dataframe"):
            data = e.proto.arrow_data.data if e.proto.HasField("arrow_data") else b""
            if not data and e.proto.HasField("lazy_data"):
                data = e.proto.lazy_data.initial_chunk.data
            if data:
                return pa.ipc.open_stream(io.BytesIO(data)).read_all().to_pylist()
        return []


class LightClient:
    """One session. ``await connect()``, then ``await rerun(...)`` per interaction."""

    def __init__(self, base_url: str, *, locale: str = "zh-CN", timezone: str = "Asia/Shanghai",
                 timeout: float = 120.0):
        self.ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.locale, self.timezone, self.timeout = locale, timezone, timeout
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.page_hash = ""  # the page shown (sent back with every rerun, as the browser does)
        self.query_string = ""
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.current = Run()  # the last finished run
        self._building = Run()
        self._finished: asyncio.Queue = asyncio.Queue()
        self.closed_reason: str | None = None
        self.received: Counter = Counter()  # messages received, by kind ("delta", "script_finished", ...)

    async def connect(self) -> Run:
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=30, ping_interval=None)
        self.reader = asyncio.create_task(self._read())
        await self.rerun()
        return self.current

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            try:
                await self.reader
            except (asyncio.CancelledError, Exception):
                pass

    # -- receiving ------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._on_message(msg)
        except websockets.ConnectionClosed as exc:
            self.closed_reason = f"disconnected: {exc}"
        except Exception as exc:  # a message this client cannot read is a failure too
            self.closed_reason = f"reader failed: {type(exc).__name__}: {exc}"
        finally:
            if self.closed_reason is None:
                self.closed_reason = "disconnected"
            self._finished.put_nowait(None)

    def _on_message(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        self.received[kind] += 1
        if kind == "new_session":
            self._building = Run()
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
        elif kind == "delta":
            path = tuple(msg.metadata.delta_path)
            delta = msg.delta
            which = delta.WhichOneof("type")
            if which == "new_element":
                el = delta.new_element
                etype = el.WhichOneof("type")
                self._building.elements[path] = Element(path, etype, getattr(el, etype))
            elif which == "add_block":
                self._building.elements.pop(path, None)
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            if msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            self._building.page_not_found = True
        elif kind == "script_finished":
            status = msg.script_finished
            if status == FINISHED:
                self.current = self._building
                self._finished.put_nowait(status)
            elif status != EARLY:
                self._finished.put_nowait(status)

    # -- sending --------------------------------------------------------------------------
    async def rerun(self, widgets: Iterable[WidgetState] = (), *, page: str | None = None,
                    query: str | None = None) -> float:
        """Send one interaction and wait until its run has finished. ``page`` is a URL
        path ("customers"; "" the landing page), ``query`` the URL's query string.
        Returns the server-side time in ms."""
        if self.closed_reason:
            raise ClientError(self.closed_reason)
        while not self._finished.empty():  # nothing stale
            self._finished.get_nowait()
        msg = BackMsg()
        cs = msg.rerun_script
        if page is not None:
            if page not in self.pages and page != "":
                raise ClientError(f"no page {page!r} in the navigation ({sorted(self.pages)})")
            self.page_hash = self.pages.get(page, "")
            self.query_string = query or ""
        elif query is not None:
            self.query_string = query
        cs.page_script_hash = self.page_hash
        cs.query_string = self.query_string
        cs.context_info.locale = self.locale
        cs.context_info.timezone = self.timezone
        cs.widget_states.widgets.extend(list(widgets))
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        try:
            status = await asyncio.wait_for(self._finished.get(), self.timeout)
        except asyncio.TimeoutError:
            raise ClientError(f"timeout: no script_finished within {self.timeout:.0f} s") from None
        elapsed = (time.perf_counter() - started) * 1000
        if status is None:
            raise ClientError(self.closed_reason or "disconnected")
        if status != FINISHED:
            raise ClientError(f"script finished with status {status}")
        return elapsed

    # -- widget values ------------------------------------------------------------------
    @staticmethod
    def text(el: Element, value: str) -> WidgetState:
        ws = WidgetState(id=el.id)
        ws.string_value = value
        return ws

    @staticmethod
    def choice(el: Element, formatted: str) -> WidgetState:
        ws = WidgetState(id=el.id)
        ws.string_value = formatted
        return ws

    @staticmethod
    def click(el: Element) -> WidgetState:
        ws = WidgetState(id=el.id)
        ws.trigger_value = True
        return ws

    @staticmethod
    def check(el: Element, value: bool = True) -> WidgetState:
        ws = WidgetState(id=el.id)
        ws.bool_value = value
        return ws
