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
BACKUP_PATH = "/download/backup"


def customers_url(actor, filters: CustomerFilters, fmt: str, lang: str) -> str:
    """The link that downloads ``actor``'s export of ``filters`` as ``fmt``."""
    key = app_config.load_config().signing_key()
    return f"{CUSTOMERS_PATH}?{urlencode({'ticket': ex.download_ticket(actor, filters, fmt, lang, key)})}"


def backup_url(actor, name: str, lang: str) -> str:
    """The link that downloads the stored backup ``name`` (administrators)."""
    from lib.ops import backup

    key = app_config.load_config().signing_key()
    return f"{BACKUP_PATH}?{urlencode({'ticket': backup.download_ticket(actor, name, lang, key)})}"


class Refused(Exception):
    def __init__(self, status: int, message: str, lang: str):
        super().__init__(message)
        self.status, self.message, self.lang = status, message, lang


def _browser_lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def _ticket_holder(db, username: str, cookie: str | None, config, key: str, lang: str, what: str):
    """The ``Actor`` of a ticket's user if the request's login cookie names a live session
    of that user and they are active; else ``Refused``."""
    if sessions.user_of_cookie(db, cookie, key, config.cookie_expiry_days) != username:
        log.info("%s download refused: no live login of the ticket's user %s", what, username)
        raise Refused(403, t("export.link_login", lang), lang)
    actor = actor_for(db, username)
    if actor is None:
        raise Refused(403, t("export.link_login", lang), lang)
    return actor


def _ticket_and_holder(db, read, minutes: int, ticket_raw: str | None, cookie: str | None, lang: str, what: str):
    """(ticket, its holder's ``Actor``): the ticket ``read(raw, key)`` makes of the link's,
    and its user as ``_ticket_holder`` finds them; else ``Refused`` (an unreadable or
    expired ticket in the browser's language ``lang``)."""
    config = app_config.load_config()
    key = config.signing_key()
    ticket = read(ticket_raw, key)
    if ticket is None:
        log.info("%s download refused: the ticket does not verify or has expired", what)
        raise Refused(410, t("export.link_expired", lang, minutes=minutes), lang)
    return ticket, _ticket_holder(db, ticket.username, cookie, config, key, ticket.lang, what)


def _open_stream(db, ticket_raw: str | None, cookie: str | None, lang: str) -> ex.ExportStream:
    """The started export the request may have, or ``Refused``."""
    ticket, actor = _ticket_and_holder(db, ex.read_ticket, ex.TICKET_MINUTES, ticket_raw, cookie, lang, "export")
    lang = ticket.lang
    try:
        stream = ex.ExportStream(db, actor, ticket.filters, ticket.fmt, lang)
    except CustomerMasterError as exc:  # e.g. no longer allowed to export
        log.info("export download refused for %s: %s", actor.username, exc.key)
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


def _open_backup(db, ticket_raw: str | None, cookie: str | None, lang: str):
    """The path of the backup the request may download (recorded in the audit log), or
    ``Refused``."""
    from lib.ops import backup

    ticket, actor = _ticket_and_holder(db, backup.read_ticket, backup.TICKET_MINUTES, ticket_raw, cookie, lang,
                                       "backup")
    lang = ticket.lang
    try:
        path = backup.stored_backup(backup.backup_dir(db.path), ticket.name)
        backup.record_download(db, actor, path)
    except PermissionDenied as exc:
        audit_log.record_denial(db, actor, exc.params.get("action", ""), where="download")
        raise Refused(403, exc.translate(lang), lang) from exc
    except CustomerMasterError as exc:
        log.info("backup download refused for %s: %s", actor.username, exc.key)
        raise Refused(404, exc.translate(lang), lang) from exc
    return path


def make_backup_route(database) -> Route:
    """The route that sends a stored backup file (administrators; ``backup.run``)."""
    from starlette.responses import FileResponse

    async def backup_download(request: Request) -> Response:
        config = app_config.load_config()
        try:
            path = await anyio.to_thread.run_sync(
                _open_backup, database(), request.query_params.get("ticket"),
                request.cookies.get(config.cookie_name), _browser_lang(request))
        except Refused as refused:
            return _refusal_page(refused)
        return FileResponse(path, media_type="application/octet-stream", filename=path.name,
                            headers={"Cache-Control": "no-store"})

    return Route(BACKUP_PATH, backup_download, methods=["GET"])


def make_backup_run_route(database) -> Route:
    """``POST /backup/run?keep=N``: a backup into the backup folder, keeping the newest N,
    for ``python -m lib.cli backup --keep N`` while the server holds the database file.
    Only from this machine (a loopback address) and with ``Authorization: Bearer`` the
    token ``backup.run_token`` derives from the signing key."""
    from starlette.responses import JSONResponse

    from lib.ops import backup

    async def backup_run(request: Request) -> Response:
        host = request.client.host if request.client else ""
        key = app_config.load_config().signing_key()
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if host not in ("127.0.0.1", "::1", "localhost") or not backup.run_token_ok(given, key):
            log.info("backup run refused (from %s)", host or "?")
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            keep = int(request.query_params["keep"]) if "keep" in request.query_params else None
        except ValueError:
            return JSONResponse({"error": "keep"}, status_code=400)

        def work():
            db = database()
            return backup.backup_into(db, backup.backup_dir(db.path), keep=keep)

        try:
            info = await anyio.to_thread.run_sync(work)
        except CustomerMasterError as exc:
            return JSONResponse({"error": exc.key, "message": exc.translate("en")}, status_code=400)
        return JSONResponse({"path": str(info.path), "size_bytes": info.size_bytes, "customers": info.customers})

    return Route(backup.RUN_PATH, backup_run, methods=["POST"])
