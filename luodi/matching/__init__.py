"""Matching (匹配): turning records into comparable text and scoring pairs of them.

Pure computation — nothing here imports the web layer or the database. ``text`` is the one place
that normalises and segments Chinese and English text; the scorers and the push planner build on it.
"""
