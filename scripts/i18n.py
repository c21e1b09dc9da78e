"""Extract messages and update the zh_CN and en catalogues (``make i18n``).

Run after changing user-facing strings; then translate the new, empty ``msgstr`` entries in
``luodi/web/locale/zh_CN/LC_MESSAGES/messages.po``. English needs no entries (msgids are English).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "luodi/web/locale"
POT = ROOT / "build/messages.pot"


def main() -> int:
    POT.parent.mkdir(exist_ok=True)
    babel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run([*babel, "extract", "-F", "babel.cfg", "-k", "N_", "--no-location",
                    "--sort-output", "-o", str(POT), "."], cwd=ROOT, check=True)
    for locale in ("zh_CN", "en"):
        po = LOCALE / locale / "LC_MESSAGES/messages.po"
        action = "update" if po.exists() else "init"
        subprocess.run([*babel, action, "-i", str(POT), "-d", str(LOCALE), "-l", locale,
                        "--no-wrap", *(["--ignore-obsolete", "--no-fuzzy-matching"]
                                       if action == "update" else [])],
                       cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
