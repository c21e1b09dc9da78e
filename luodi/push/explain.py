"""The reason a push gives, in plain Chinese and English, from the evidence of its pair.

Built only from public facts: the recipient's own demand (it is theirs), shared terms, the
field, the maturity, the region, subscribed keywords and the catalogue that lists it.
"""

from __future__ import annotations

from typing import Any

from luodi.inventory.taxonomy import active_taxonomy

__all__ = ["reason_for"]

REGION_ZH = {"same_city": "与贵企业同城", "same_province": "与贵企业同省",
             "jjj": "同在京津冀"}
REGION_EN = {"same_city": "in your city", "same_province": "in your province",
             "jjj": "both in Beijing–Tianjin–Hebei"}


def _field_names(code: str | None) -> tuple[str, str] | None:
    taxonomy = active_taxonomy()
    if not code or code not in taxonomy:
        return None
    f = taxonomy.get(code)
    return f.name_zh, f.name_en


def reason_for(explanation: dict[str, Any], catalogue: str | None = None) -> tuple[str, str]:
    """(zh, en) sentences saying why this achievement was pushed to this enterprise."""
    zh: list[str] = []
    en: list[str] = []
    via = explanation.get("via") or []
    if via:
        zh.append(f"与贵企业需求「{via[0]['title']}」相关")
        en.append(f"related to your demand “{via[0]['title']}”")
    elif "subscription" in explanation.get("sources", []):
        zh.append("符合贵企业的订阅")
        en.append("fits your subscription")
    else:
        zh.append("与贵企业简介相关")
        en.append("related to your company profile")
    terms = [t for t, _ in explanation.get("shared_terms", [])[:3]]
    if terms:
        zh.append("共同关键词：" + "、".join(terms))
        en.append("shared terms: " + ", ".join(terms))
    if explanation.get("keywords"):
        zh.append("含订阅关键词：" + "、".join(explanation["keywords"][:3]))
        en.append("has your keywords: " + ", ".join(explanation["keywords"][:3]))
    facts = explanation.get("facts") or {}
    names = _field_names(facts.get("field"))
    if names and facts.get("field_match"):
        zh.append(f"同属{names[0]}领域")
        en.append(f"same field ({names[1]})")
    if facts.get("trl"):
        zh.append(f"技术成熟度 TRL {facts['trl']}")
        en.append(f"maturity TRL {facts['trl']}")
    relation = facts.get("region_relation")
    if relation in REGION_ZH:
        zh.append(REGION_ZH[relation])
        en.append(REGION_EN[relation])
    if catalogue:
        zh.append(f"列入清单「{catalogue}」")
        en.append(f"listed in “{catalogue}”")
    return "；".join(zh) + "。", "; ".join(en).capitalize() + "."
