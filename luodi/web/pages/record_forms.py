"""Which fields each record form and list shows, and how form text becomes service input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from luodi.inventory import codes
from luodi.inventory.taxonomy import active_taxonomy
from luodi.web.labels import N_


@dataclass(frozen=True)
class FormField:
    """One input: its name, label msgid, widget and (for selects) choices."""

    name: str
    label: str
    widget: str = "text"  # text | textarea | select | multiselect | number | date | checkbox | list
    choices: tuple[tuple[str, Label], ...] = ()
    staff_only: bool = False
    help: str = ""


# A choice label is a msgid (translated by the template) or a (Chinese, English) pair.
Label = str | tuple[str, str]


def _field_choices() -> tuple[tuple[str, Label], ...]:
    return tuple((f.code, (f.name_zh, f.name_en)) for f in active_taxonomy())


def _enum(enum: Any) -> tuple[tuple[str, Label], ...]:
    return tuple((m.value, (m.zh, m.en)) for m in enum)


TRL = tuple((str(t.number), (f"TRL {t.number} · {t.zh}", f"TRL {t.number} · {t.en}"))
            for t in codes.TRL_LEVELS)
STATUS = (("draft", N_("Draft")), ("published", N_("Published")), ("withdrawn", N_("Withdrawn")))

# Status, the contact tier and validity: the same on achievement and demand forms.
_LISTING_TAIL = (
    FormField("status", N_("Status"), "select", STATUS),
    FormField("contact_name", N_("Contact person (confidential)")),
    FormField("contact_email", N_("Contact e-mail (confidential)")),
    FormField("contact_phone", N_("Contact phone (confidential)")),
    FormField("expires_on", N_("Valid until"), "date"),
)

FORMS: dict[str, tuple[FormField, ...]] = {
    "achievements": (
        FormField("title", N_("Title")),
        FormField("summary", N_("Public summary"), "textarea",
                  help=N_("Shown to everyone: a teaser without confidential details.")),
        FormField("description", N_("Full description (confidential)"), "textarea"),
        FormField("keywords", N_("Keywords"), "list", help=N_("Separate with ； or 、")),
        FormField("field_code", N_("Industry field"), "select", _field_choices(),
                  help=N_("Leave empty to accept the suggested field.")),
        FormField("trl", N_("Technology readiness (TRL)"), "select", TRL),
        FormField("transfer_modes", N_("Transfer modes"), "multiselect",
                  _enum(codes.TransferMode)),
        FormField("ip_numbers", N_("Patent numbers"), "list", help=N_("One per line")),
        FormField("inventors", N_("Inventors"), "list"),
        FormField("price_wan", N_("Indicative price (10k yuan)"), "number"),
        FormField("region_code", N_("Region code (GB/T 2260)"), help=N_("e.g. 110108 for Haidian")),
        FormField("institution_id", N_("Institution"), "select", staff_only=True),
        *_LISTING_TAIL,
    ),
    "demands": (
        FormField("title", N_("Title")),
        FormField("summary", N_("Public summary"), "textarea"),
        FormField("description", N_("Problem description (confidential)"), "textarea"),
        FormField("keywords", N_("Keywords"), "list"),
        FormField("field_code", N_("Industry field"), "select", _field_choices()),
        FormField("trl_wanted", N_("Least maturity wanted (TRL)"), "select", TRL),
        FormField("budget_min_wan", N_("Budget from (10k yuan)"), "number"),
        FormField("budget_max_wan", N_("Budget up to (10k yuan)"), "number"),
        FormField("deadline", N_("Deadline"), "date"),
        FormField("cooperation_modes", N_("Cooperation modes"), "multiselect",
                  _enum(codes.TransferMode)),
        FormField("region_code", N_("Region code (GB/T 2260)")),
        FormField("enterprise_id", N_("Enterprise"), "select", staff_only=True),
        FormField("confidential", N_("Confidential: hide the enterprise's name"), "checkbox"),
        *_LISTING_TAIL,
    ),
    "enterprises": (
        FormField("name", N_("Name")),
        FormField("name_en", N_("English name")),
        FormField("credit_code", N_("Unified social credit code"), staff_only=True),
        FormField("region_code", N_("Region code (GB/T 2260)")),
        FormField("industry_code", N_("Industry (GB/T 4754)"), help=N_("e.g. C39 or I65")),
        FormField("size", N_("Size"), "select", _enum(codes.EnterpriseSize)),
        FormField("qualifications", N_("Qualifications"), "multiselect",
                  _enum(codes.Qualification)),
        FormField("profile", N_("Profile"), "textarea"),
    ),
    "institutions": (
        FormField("name", N_("Name")),
        FormField("name_en", N_("English name")),
        FormField("kind", N_("Kind"), "select", (("university", N_("University")),
                                                 ("institute", N_("Research institute")),
                                                 ("hospital", N_("Hospital")),
                                                 ("enterprise_lab", N_("Enterprise lab")),
                                                 ("other", N_("Other")))),
        FormField("country", N_("Country (ISO code)")),
        FormField("region_code", N_("Region code (GB/T 2260)")),
        FormField("credit_code", N_("Unified social credit code")),
        FormField("website", N_("Website")),
        FormField("profile", N_("Profile"), "textarea"),
    ),
    "experts": (
        FormField("name", N_("Name")),
        FormField("title", N_("Professional title")),
        FormField("affiliation", N_("Affiliation")),
        FormField("skills", N_("Skills"), "list"),
        FormField("publications", N_("Publications"), "list", help=N_("One per line")),
        FormField("field_code", N_("Industry field"), "select", _field_choices()),
        FormField("email", N_("E-mail (private)")),
        FormField("phone", N_("Phone (private)")),
        FormField("consent", N_("Consent to be listed"), "select",
                  (("none", N_("Not asked")), ("granted", N_("Granted")),
                   ("withdrawn", N_("Withdrawn")))),
    ),
}


def form_to_data(kind: str, form: FormData, *, creating: bool) -> dict[str, Any]:
    """Form text → service input. Empty inputs are omitted on create and cleared on update."""
    data: dict[str, Any] = {}
    for f in FORMS[kind]:
        if f.widget == "multiselect":
            data[f.name] = [str(v) for v in form.getlist(f.name) if str(v)]
            continue
        if f.widget == "checkbox":
            data[f.name] = form.get(f.name) in ("on", "1", "true")
            continue
        if f.name not in form:
            continue
        value = str(form.get(f.name) or "").strip()
        if f.widget == "list":
            value_list = [v.strip() for v in value.replace("\r", "").replace("\n", "；").split("；")
                          if v.strip()]
            data[f.name] = value_list
        elif value or not creating:
            data[f.name] = value or None
    if "ip_numbers" in data:
        data["ip_items"] = [{"number": n} for n in data.pop("ip_numbers") or []]
    return {k: v for k, v in data.items() if not (creating and v in (None, [], ""))}


def form_values(kind: str, record: dict[str, Any] | None) -> dict[str, Any]:
    """Current values as form text (for editing)."""
    if not record:
        return {}
    values = dict(record)
    for f in FORMS[kind]:
        current = values.get(f.name)
        if f.widget == "list" and isinstance(current, list):
            values[f.name] = "；".join(str(v) for v in current)
    values["ip_numbers"] = "\n".join(i.get("number", "") for i in record.get("ip_items") or [])
    return values

