"""Empath's Gradio UI: what the app shows about a turn (``panels``); ``app.py`` at the repository root serves it."""
