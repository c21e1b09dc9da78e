"""plotly.js served from the installed ``plotly`` package, and its stylesheets as files.

Nothing is downloaded and no CDN is used: the JavaScript is the ``plotly.min.js`` bundled with
plotly.py. Under this site's ``style-src 'self'`` plotly.js cannot inject the two ``<style>``
elements it builds at load time: its library-wide rules (mode bar, hover boxes, notifier) and
the maplibre map CSS. It skips each when the page already holds an element with its id — for
the library rules an element ``#plotly.js-style-global`` with class ``no-inline-styles``
(plotly.js PR #7109). Everything else plotly styles through the CSSOM (``element.style``), which
CSP allows. plotly.py ships no CSS file, so :func:`stylesheets` rebuilds both from the bundle
itself and the dashboard links them under those ids: the CSP stays as strict as on every other
page, and the rules always match the installed plotly.js.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

GLOBAL_ID = "plotly.js-style-global"  # plotly.js's id for its library-wide rules
# The rules object in the bundle starts with this key; X and Y are expanded as plotly.js does.
_RULES_START = '{"X,X div":'
_EXPANSIONS = (("X", ".js-plotly-plot .plotly"), ("Y", ".plotly-notifier"))
# Other style elements the bundle injects once, keyed by a fixed id (maplibre's CSS).
_INJECTED = re.compile(r'getElementById\("([\w.-]+)"\)\)\{var (\w+)=document\.createElement'
                       r'\("style"\);\2\.id="\1",\2\.textContent=')
_VERSION = re.compile(r"plotly\.js v(\d+\.\d+\.\d+)")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def plotly_js_path() -> Path:
    """``plotly.min.js`` inside the installed plotly package."""
    import plotly  # local: only the asset routes need it

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@cache
def plotly_js_version() -> str:
    """The plotly.js version named in the bundle's header (used to bust caches)."""
    with plotly_js_path().open(encoding="utf-8") as fh:
        match = _VERSION.search(fh.read(400))
    return match.group(1) if match else "unknown"


@cache
def stylesheets() -> dict[str, str]:
    """Element id → CSS text, for each ``<style>`` element plotly.js would inject.

    If the bundle's layout is not recognised the library rules are empty (and a warning is
    logged): the charts still draw, only the mode bar and hover boxes lose their styling.
    """
    source = plotly_js_path().read_text(encoding="utf-8")
    head = f"/* plotly.js {plotly_js_version()}: extracted from the bundle */\n"
    try:
        rules = parse_rules(source)
    except (ValueError, IndexError) as exc:
        log.warning("could not extract plotly.js styles from the bundle: %s", exc)
        rules = []
    # plotly.js inserts each rule at index 0, so the sheet holds them in reverse order.
    sheets = {GLOBAL_ID: head + "".join(f"{_selector(key)}{{{body}}}\n"
                                        for key, body in reversed(rules))}
    for match in _INJECTED.finditer(source):
        css, _end = _string(source, match.end())
        sheets[match.group(1)] = head + css + "\n"
    return sheets


def _selector(key: str) -> str:
    selector = " ," + key[1:] if key.startswith(",") else key
    for short, full in _EXPANSIONS:
        selector = selector.replace(short, full)
    return selector


def parse_rules(source: str) -> list[tuple[str, str]]:
    """The (selector key, declarations) pairs of plotly.js's style object, in source order."""
    start = source.find(_RULES_START)
    if start < 0:
        raise ValueError("style object not found")
    pos, rules = start + 1, []
    while True:
        key, pos = _key(source, pos)
        if source[pos] != ":":
            raise ValueError(f"expected ':' at {pos}")
        value, pos = _string(source, pos + 1)
        rules.append((key, value))
        if source[pos] == "}":
            return rules
        if source[pos] != ",":
            raise ValueError(f"expected ',' or '}}' at {pos}")
        pos += 1


def _key(source: str, pos: int) -> tuple[str, int]:
    if source[pos] in "\"'":
        return _string(source, pos)
    match = _IDENT.match(source, pos)
    if not match:
        raise ValueError(f"expected a key at {pos}")
    return match.group(), match.end()


def _string(source: str, pos: int) -> tuple[str, int]:
    """A JavaScript string literal starting at ``pos``; returns its value and the next index."""
    quote = source[pos]
    if quote not in "\"'":
        raise ValueError(f"expected a string at {pos}")
    end = pos + 1
    while source[end] != quote:
        end += 2 if source[end] == "\\" else 1
    return _unescape(source[pos + 1:end]), end + 1


_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unescape(raw: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(one, raw)
