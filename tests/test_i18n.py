"""Every message in the templates and account/web code has a Chinese translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from luodi.web.i18n import translate

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "luodi/web/locale/zh_CN/LC_MESSAGES/messages.po"


def test_catalogue_covers_extracted_messages(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "N_", "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with PO.open("rb") as fh:
        have = {m.id for m in read_po(fh) if m.id and m.string}
    missing = sorted(str(m) for m in wanted - have)
    assert not missing, f"untranslated (run make i18n and translate): {missing}"


def test_translate_with_parameters() -> None:
    assert translate("zh_CN", "Welcome, %(name)s.", name="张三") == "欢迎，张三。"
    assert translate("en", "Welcome, %(name)s.", name="Zhang") == "Welcome, Zhang."
