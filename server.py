"""The web server: Streamlit serving ``app.py``, plus the routes that stream exports and
backups to the browser and make a backup for the command line (``ui.downloads``). ``make run`` starts it with ``streamlit run server.py``
(Streamlit finds the ``app`` below and serves it with uvicorn)."""
import streamlit as st

from ui.context import database
from ui.downloads import make_backup_route, make_backup_run_route, make_route

app = st.App("app.py", routes=[make_route(database), make_backup_route(database), make_backup_run_route(database)])
