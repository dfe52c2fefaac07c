"""Style-guide gate for the stability.ops collection.

The rule table lives in :mod:`style_guide.rules`; :mod:`style_guide.engine`
lists the repository's files, hands every content rule to ripgrep (``rg -U``
with PCRE2, so matches may span lines), applies ``.styleignore`` and per-line
``# style-ignore: RULE-ID`` comments, and checks repository hygiene.
``scripts/enforce_style_guide.sh`` is the entry point.
"""
