"""Segment Studio engine: ingest, workspace, features, demo store. No Streamlit here."""

__version__ = "0.1.0"
