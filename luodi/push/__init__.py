"""推送 Push: matching records to the people they serve, with explanations.

Services over the database: documents (what of a record is matched), vectors (each record
version embedded once per model), the match indexes and their lifecycle, the match directions
and ``luodi eval``. The scoring itself is :mod:`luodi.matching`, pure code over arrays.
"""
