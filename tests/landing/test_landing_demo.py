"""The landing demo: demo cases carried to deals through the services, landing inside and outside
京津冀, so the dashboard shows a real share and a funnel that narrows; a rerun adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from luodi.auth.actor import system_actor
from luodi.auth.models import User
from luodi.docking.demo import BROKER_EMAIL
from luodi.docking.models import Case
from luodi.inventory import demo
from luodi.landing.models import Deal
from luodi.landing.schemas import today
from luodi.landing.stats import compute_stats
from tests.inventory.test_demo import _small_sample

JJJ = ("11", "12", "13")


def test_demo_lands_deals_inside_and_outside_jjj(session, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    demo.load_demo(session, settings, _small_sample(tmp_path / "sample"))
    made = session.scalars(select(Deal).order_by(Deal.signed_on)).all()
    assert len(made) >= 10
    inside = [d for d in made if d.landing_region_code[:2] in JJJ]
    assert inside and len(inside) < len(made)
    assert {d.landing_region_code[:2] for d in made} >= {"11", "12", "13", "31", "44", "51"}
    assert len({d.category for d in made}) >= 5
    assert sum(d.registration_no is None for d in made) >= 2
    numbers = [d.registration_no for d in made if d.registration_no]
    assert len(set(numbers)) == len(numbers) and all(len(n) == 16 for n in numbers)
    [equity] = [d for d in made if d.transfer_mode == "equity_investment"]
    assert equity.equity and equity.equity["holder"]
    assert any(d.milestones for d in made)
    assert all(0 <= (today() - d.signed_on).days <= 300 for d in made)
    assert all("（示例）" in (d.note or "") for d in made)
    # through the services, as the right people: the broker or the owner recorded each one
    broker = session.scalar(select(User).where(User.email == BROKER_EMAIL))
    tto = session.scalar(select(User).where(User.email == "tto@demo.luodi"))
    recorders = {d.created_by_id for d in made}
    assert broker.id in recorders and tto.id in recorders
    for deal in made:
        case = session.get(Case, deal.case_id)
        assert case.state == "landed"
        assert [e.action for e in case.events if e.kind == "transition"][-2:] == ["agree",
                                                                                  "land"]

    stats = compute_stats(session, system_actor(), date_from=today().replace(month=1, day=1),
                          date_to=today())
    everything = compute_stats(session, system_actor())
    assert everything.totals.count == len(made)
    assert 0 < everything.jjj_share_count < 1 and 0 < everything.jjj_share_value < 1
    reached = [s.reached for s in everything.funnel]
    assert reached == sorted(reached, reverse=True) and reached[0] > reached[-1] > 0
    assert everything.funnel[-1].stage == "landed" and reached[-1] == len(made)
    assert any(s.median for s in everything.stage_days)  # the trail spans weeks, not seconds
    if today().timetuple().tm_yday > 300:  # the default "this year" holds every deal
        assert stats.totals.count == len(made)

    demo.load_demo(session, settings, _small_sample(tmp_path / "again"))
    assert session.scalar(select(func.count()).select_from(Deal)) == len(made)
