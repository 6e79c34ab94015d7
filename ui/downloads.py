"""The download route: exports stream from here to the browser as they are written.

Streamlit's own download button hands the whole file to Streamlit, which keeps it in
memory (a 1,000,000-row CSV: +1.19 GB in the server) and the browser gives up after
180 s (a 1,000,000-row XLSX takes longer). So the customers page links to
``/download/customers`` on the same server instead (mounted by ``server.py``), with a
signed ticket saying what to export for whom (``lib.customers.export.download_ticket``).

A request is served only if its ticket verifies and has not expired, the login cookie it
carries names a live session of the ticket's user, and that user is active and may
export now (role and scope read again from the database). Anything else gets a short
page in the ticket's language (or the browser's) and nothing is exported. Refusals are
logged without the ticket or the cookie.
"""
from __future__ import annotations

import html
import logging
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from lib.accounts import audit_log, sessions
from lib.accounts.users import actor_for
from lib.core import config as app_config
from lib.core.errors import CustomerMasterError, PermissionDenied
from lib.core.i18n import t
from lib.customers import export as ex
from lib.customers.search import CustomerFilters

log = logging.getLogger(__name__)

CUSTOMERS_PATH = "/download/customers"


def customers_url(actor, filters: CustomerFilters, fmt: str, lang: str) -> str:
    """The link that downloads ``actor``'s export of ``filters`` as ``fmt``."""
    key = app_config.load_config().signing_key()
    return f"{CUSTOMERS_PATH}?{urlencode({'ticket': ex.download_ticket(actor, filters, fmt, lang, key)})}"


class Refused(Exception):
    def __init__(self, status: int, message: str, lang: str):
        super().__init__(message)
        self.status, self.message, self.lang = status, message, lang


def _browser_lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def _open_stream(db, ticket_raw: str | None, cookie: str | None, lang: str) -> ex.ExportStream:
    """The started export the request may have, or ``Refused``."""
    config = app_config.load_config()
    key = config.signing_key()
    ticket = ex.read_ticket(ticket_raw, key)
    if ticket is None:
        log.info("export download refused: the ticket does not verify or has expired")
        raise Refused(410, t("export.link_expired", lang, minutes=ex.TICKET_MINUTES), lang)
    lang = ticket.lang
    username = sessions.user_of_cookie(db, cookie, key, config.cookie_expiry_days)
    if username != ticket.username:
        log.info("export download refused: no live login of the ticket's user %s", ticket.username)
        raise Refused(403, t("export.link_login", lang), lang)
    actor = actor_for(db, username)
    if actor is None:
        raise Refused(403, t("export.link_login", lang), lang)
    try:
        stream = ex.ExportStream(db, actor, ticket.filters, ticket.fmt, lang)
    except CustomerMasterError as exc:  # e.g. no longer allowed to export
        log.info("export download refused for %s: %s", username, exc.key)
        if isinstance(exc, PermissionDenied):
            audit_log.record_denial(db, actor, exc.params.get("action", ""), where="download")
        raise Refused(403, exc.translate(lang), lang) from exc
    return stream.start()


def _refusal_page(refused: Refused) -> HTMLResponse:
    back = t("export.link_back", refused.lang)
    body = (f"<!doctype html><html lang=\"{refused.lang}\"><meta charset=\"utf-8\">"
            f"<title>{html.escape(t('app.title', refused.lang))}</title>"
            f"<body style=\"font-family: sans-serif; margin: 3rem\"><p>{html.escape(refused.message)}</p>"
            f"<p><a href=\"/customers\">{html.escape(back)}</a></p></body></html>")
    return HTMLResponse(body, status_code=refused.status, headers={"Cache-Control": "no-store"})


def make_route(database) -> Route:
    """The route, reading the process's ``Database`` from ``database()``."""

    async def customers_download(request: Request) -> Response:
        lang = _browser_lang(request)
        config = app_config.load_config()
        try:
            stream = await anyio.to_thread.run_sync(
                _open_stream, database(), request.query_params.get("ticket"),
                request.cookies.get(config.cookie_name), lang)
        except Refused as refused:
            return _refusal_page(refused)

        async def body():
            try:
                while (chunk := await anyio.to_thread.run_sync(stream.read)) is not None:
                    yield chunk
            finally:
                stream.cancel()  # the browser went away (nothing if the export finished)

        name = ex.file_name(stream.fmt)
        return StreamingResponse(body(), media_type=ex.MEDIA_TYPES[stream.fmt],
                                 headers={"Content-Disposition": f'attachment; filename="{name}"',
                                          "Cache-Control": "no-store"})

    return Route(CUSTOMERS_PATH, customers_download, methods=["GET"])
