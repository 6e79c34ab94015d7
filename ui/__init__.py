"""Streamlit glue shared by the pages: context, login gate, widgets, messages."""
