"""Message catalogues (gettext via Babel): zh-CN by default, English switchable.

The ``.po`` files are the source of truth; they are compiled in memory at start-up, so there is no
binary ``.mo`` to forget to rebuild. English is the msgid language, so ``en`` needs no catalogue
entries beyond the header.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@lru_cache(maxsize=8)
def translations(locale: str) -> gettext.NullTranslations:
    """Compiled translations for ``locale`` (``NullTranslations`` when there is no catalogue)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translate(locale: str, message: str, **params: object) -> str:
    """Translate ``message`` and fill ``%(name)s`` placeholders."""
    text = translations(locale).gettext(message)
    return text % params if params else text


def ntranslate(locale: str, singular: str, plural: str, n: int, **params: object) -> str:
    """Plural-aware translation; ``n`` is available as ``%(num)s``."""
    text = translations(locale).ngettext(singular, plural, n)
    return text % {"num": n, **params}
