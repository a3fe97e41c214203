"""Briefing packs: every chart of every page by a stable id (``registry``) and the PDF and
PowerPoint pack built from a chosen list of them (``pack``).
"""
