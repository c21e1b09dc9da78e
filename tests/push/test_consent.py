"""Consent and choice: preferences, subscriptions, opt-outs, conflicts and the forbidden arcs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from luodi.audit import AuditEvent
from luodi.auth.actor import ANONYMOUS, system_actor
from luodi.auth.service import actor_for
from luodi.db import utcnow
from luodi.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from luodi.push import consent
from luodi.push.ledger import PushBlock, PushPreference
from tests.factories import make_user
from tests.push import ledger_factories as lf


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    buyer = lf.enterprise_party(session, settings)
    tto = lf.institution_party(session, settings)
    return {"buyer": buyer, "other": lf.enterprise_party(session, settings), "tto": tto,
            "robot": lf.achievement(session, settings, tto.record),
            "operator": make_user(session, "operator")}


def _actor(party_or_user):  # type: ignore[no-untyped-def]
    return actor_for(getattr(party_or_user, "user", party_or_user))


def _audited(session, action: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action, AuditEvent.outcome == "success")) or 0


def test_preferences_default_then_saved_and_audited(session, world) -> None:  # type: ignore[no-untyped-def]
    buyer = _actor(world["buyer"])
    default = consent.get_preferences(session, buyer)
    assert (default.id, default.personalised, default.email, default.email_max_per_week) == (
        None, True, True, None)
    assert session.scalar(select(func.count(PushPreference.id))) == 0

    row = consent.set_preferences(session, buyer, personalised=False, email=False,
                                  email_max_per_week=0)
    row.unsubscribed_at = utcnow()  # as a one-click unsubscribe would leave it
    session.commit()
    row = consent.set_preferences(session, buyer, personalised=True, email=True,
                                  email_max_per_week=3)
    assert row.unsubscribed_at is None and row.email_max_per_week == 3
    assert consent.get_preferences(session, buyer).id == row.id
    assert _audited(session, "push.preferences") == 2


def test_preferences_need_a_person(session, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAuthenticated):
        consent.get_preferences(session, ANONYMOUS)
    with pytest.raises(PermissionDenied):
        consent.get_preferences(session, system_actor())
    for bad in (-1, 15):
        with pytest.raises(ValidationFailed):
            consent.set_preferences(session, _actor(world["buyer"]), personalised=True,
                                    email=True, email_max_per_week=bad)


def test_subscription_saved_cleaned_and_audited(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    buyer, org_id = _actor(world["buyer"]), world["buyer"].org.id
    default = consent.get_subscription(session, buyer, org_id)
    assert (default.id, default.fields, default.keywords, default.paused) == (None, [], [], False)
    row = consent.set_subscription(session, buyer, settings, org_id, fields=["ai", "ai", "quantum"],
                                   keywords=[" 机器视觉 ", "机器视觉", "", "Robot", "robot"],
                                   max_per_cycle=settings.push_cap_per_recipient, paused=True)
    assert row.fields == ["ai", "quantum"] and row.keywords == ["机器视觉", "Robot"]
    assert row.updated_by_id == world["buyer"].user.id and row.id is not None
    again = consent.set_subscription(session, _actor(world["operator"]), settings, org_id,
                                     fields=[], keywords=[], max_per_cycle=None, paused=False)
    assert again.id == row.id and _audited(session, "push.subscription") == 2


@pytest.mark.parametrize(("changes", "field"), [
    ({"fields": ["ai", "no_such_field"]}, "fields"),
    ({"keywords": [f"关键词{i:02d}" for i in range(21)]}, "keywords"),
    ({"keywords": ["x"]}, "keywords"),
    ({"keywords": ["很" * 21]}, "keywords"),
    ({"max_per_cycle": 0}, "max_per_cycle"),
    ({"max_per_cycle": 6}, "max_per_cycle"),  # above k = 5
])
def test_subscription_validation(session, settings, world, changes, field) -> None:  # type: ignore[no-untyped-def]
    assert settings.push_cap_per_recipient == 5
    values = {"fields": [], "keywords": [], "max_per_cycle": None, "paused": False, **changes}
    with pytest.raises(ValidationFailed) as err:
        consent.set_subscription(session, _actor(world["buyer"]), settings,
                                 world["buyer"].org.id, **values)
    assert err.value.data["field"] == field
    if field == "fields":
        assert "no_such_field" in err.value.message


def test_subscription_only_for_enterprises_and_their_members(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        consent.get_subscription(session, _actor(world["operator"]), world["tto"].org.id)
    with pytest.raises(ValidationFailed):
        consent.set_subscription(session, _actor(world["tto"]), settings, world["tto"].org.id,
                                 fields=[], keywords=[], max_per_cycle=None, paused=False)
    with pytest.raises(PermissionDenied):
        consent.get_subscription(session, _actor(world["other"]), world["buyer"].org.id)
    with pytest.raises(NotFound):
        consent.get_subscription(session, _actor(world["operator"]), 999_999)


def test_opt_out_is_idempotent_and_listed(session, world) -> None:  # type: ignore[no-untyped-def]
    buyer, ent = _actor(world["buyer"]), world["buyer"].record
    first = consent.opt_out(session, buyer, ent.id, achievement_id=world["robot"].id,
                            reason="已有同类技术")
    again = consent.opt_out(session, buyer, ent.id, achievement_id=world["robot"].id)
    whole = consent.opt_out(session, buyer, ent.id, institution_id=world["tto"].record.id)
    assert again.id == first.id and first.kind == "opt_out" and first.reason == "已有同类技术"
    assert {b.id for b in consent.list_blocks(session, buyer, ent.id)} == {first.id, whole.id}
    assert _audited(session, "push.opt_out") == 2
    with pytest.raises(ValidationFailed):
        consent.opt_out(session, buyer, ent.id)
    with pytest.raises(ValidationFailed):
        consent.opt_out(session, buyer, ent.id, achievement_id=world["robot"].id,
                        institution_id=world["tto"].record.id)
    with pytest.raises(NotFound):
        consent.opt_out(session, buyer, ent.id, achievement_id=999_999)
    with pytest.raises(PermissionDenied):
        consent.opt_out(session, _actor(world["other"]), ent.id, achievement_id=world["robot"].id)
    with pytest.raises(PermissionDenied):
        consent.list_blocks(session, _actor(world["tto"]), ent.id)


def test_opt_outs_removable_by_enterprise_conflicts_only_by_staff(session, world) -> None:  # type: ignore[no-untyped-def]
    buyer, ent, inst = _actor(world["buyer"]), world["buyer"].record, world["tto"].record
    with pytest.raises(ValidationFailed):
        consent.declare_conflict(session, buyer, ent.id, inst.id, reason="  ")
    conflict = consent.declare_conflict(session, _actor(world["tto"]), ent.id, inst.id,
                                        reason="法定代表人兼任该院教授")
    assert conflict.kind == "conflict" and conflict.achievement_id is None
    with pytest.raises(PermissionDenied):
        consent.declare_conflict(session, _actor(world["other"]), ent.id, inst.id, reason="x")
    with pytest.raises(PermissionDenied):
        consent.remove_block(session, buyer, conflict.id)
    opt = consent.opt_out(session, buyer, ent.id, achievement_id=world["robot"].id)
    with pytest.raises(PermissionDenied):
        consent.remove_block(session, _actor(world["other"]), opt.id)
    consent.remove_block(session, buyer, opt.id)
    consent.remove_block(session, _actor(world["operator"]), conflict.id)
    assert session.scalar(select(func.count(PushBlock.id))) == 0
    assert _audited(session, "push.remove_block") == 2
    assert _audited(session, "push.declare_conflict") == 1
    with pytest.raises(NotFound):
        consent.remove_block(session, buyer, opt.id)


def test_forbidden_arcs(session, world) -> None:  # type: ignore[no-untyped-def]
    assert consent.forbidden_arcs(session) == (set(), set())
    buyer, other = world["buyer"].record, world["other"].record
    consent.opt_out(session, _actor(world["buyer"]), buyer.id, achievement_id=world["robot"].id)
    consent.declare_conflict(session, _actor(world["operator"]), other.id, world["tto"].record.id,
                             reason="关联方")
    assert consent.forbidden_arcs(session) == ({(buyer.id, world["robot"].id)},
                                               {(other.id, world["tto"].record.id)})
