"""Streamlit glue shared by ``dashboard.py`` and the pages: the live-data connection, cached reads,
sidebar filters (``shared``), publication and presentation modes with downloads (``modes``), and
drawing tiles, sentences and chart panels (``render``).

The only package besides ``pages/`` that imports Streamlit; it holds no analytics (those are in
``analytics``, which never imports Streamlit).
"""
