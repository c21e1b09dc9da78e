"""The 技术合同登记 workbook: the registration form's columns, typed cells, escaping, audit."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from luodi.audit import AuditEvent
from luodi.inventory.codes import make_credit_code
from luodi.landing.models import DealParty
from luodi.landing.register import REGISTER_HEADERS
from tests.factories import login, make_user
from tests.landing import stats_fixtures as sf

EXPECTED_HEADERS = (
    "合同登记号", "合同名称", "技术合同类别", "签订日期", "合同成交额（万元）", "技术交易额（万元）",
    "卖方名称", "卖方统一社会信用代码", "卖方所在地区（代码）", "卖方所在地区", "卖方类型",
    "买方名称", "买方统一社会信用代码", "买方所在地区（代码）", "买方所在地区", "买方类型",
    "中介方", "转化方式", "作价投资（持股比例/作价金额）", "落地主体", "落地主体统一社会信用代码",
    "落地地区（代码）", "落地地区", "是否京津冀", "技术领域", "技术经理人", "状态",
)
SELLER_CODE = make_credit_code("seller", department="1", category="2", region="110108")
BUYER_CODE = make_credit_code("buyer", region="120116")
LANDED_CODE = make_credit_code("landed", region="130638")


@pytest.fixture
def deals(session):  # type: ignore[no-untyped-def]
    """An equity deal landing in 雄县 with every party, a plain one in 浦东, a cancelled one,
    and one outside the period."""
    w = sf.ledger_world(session)
    opened = dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC)
    cases = [sf.add_case(session, w, opened=opened) for _ in range(4)]
    equity = sf.add_deal(session, w, cases[0], amount="1250.50", signed_on=dt.date(2025, 3, 10),
                         landing="130638", registration_no="1101082025000123",
                         category="development_cooperative", field_code="ai", commit=False)
    equity.title = "=HYPERLINK(\"http://evil\")固态电池合作开发合同"
    equity.registered_income_wan = Decimal("1000.25")
    equity.transfer_mode = "equity_investment"
    equity.equity = {"share_pct": "12.5", "valuation_wan": "300", "holder": "北京测试大学"}
    equity.landed_entity = "雄安固态电池有限公司"
    equity.landed_credit_code = LANDED_CODE
    equity.parties = [
        DealParty(role="seller", name="北京测试大学", credit_code=SELLER_CODE,
                  region_code="110108", party_type="university"),
        DealParty(role="buyer", name="@天津买方科技有限公司", credit_code=BUYER_CODE,
                  region_code="120116", party_type="enterprise"),
        DealParty(role="intermediary", name="北京技术转移中心", region_code="110105",
                  party_type="other"),
        DealParty(role="intermediary", name="+河北中介", region_code="130100",
                  party_type="other"),
    ]
    plain = sf.add_deal(session, w, cases[1], amount="80", signed_on=dt.date(2025, 3, 2),
                        landing="310115", seller=None, field_code=None, institution=None,
                        broker=None, category="service")
    cancelled = sf.add_deal(session, w, cases[2], amount="5", signed_on=dt.date(2025, 3, 20),
                            landing="110108", status="cancelled")
    sf.add_deal(session, w, cases[3], amount="7", signed_on=dt.date(2025, 5, 1),
                landing="110108")
    session.commit()
    return w, equity, plain, cancelled


def _download(client, session, url: str = "/dashboard/deals.xlsx?from=2025-03-01&to=2025-03-31"):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    login(client, make_user(session, "operator").email)
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return response


def test_layout_and_values(client, session, deals) -> None:  # type: ignore[no-untyped-def]
    w, equity, plain, cancelled = deals
    response = _download(client, session)
    assert 'filename="luodi-register-2025-03-01_2025-03-31.xlsx"' in \
        response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["技术合同登记"]
    rows = list(sheet.iter_rows())
    assert tuple(c.value for c in rows[0]) == EXPECTED_HEADERS == REGISTER_HEADERS
    assert len(rows) == 4  # three deals signed in March (the cancelled one too), by date
    by_name = [dict(zip(EXPECTED_HEADERS, (c.value for c in row), strict=True))
               for row in rows[1:]]
    assert [r["合同成交额（万元）"] for r in by_name] == [80, 1250.5, 5]
    row = by_name[1]
    assert row["合同登记号"] == "1101082025000123"
    assert row["合同名称"] == "'=HYPERLINK(\"http://evil\")固态电池合作开发合同"  # escaped
    assert row["技术合同类别"] == "技术开发（合作）"
    assert row["签订日期"] == dt.datetime(2025, 3, 10)  # a real date cell
    assert row["技术交易额（万元）"] == 1000.25
    assert (row["卖方名称"], row["卖方统一社会信用代码"], row["卖方所在地区（代码）"],
            row["卖方所在地区"], row["卖方类型"]) == ("北京测试大学", SELLER_CODE, "110108",
                                                     "北京市 海淀区", "高等院校")
    assert row["买方名称"] == "'@天津买方科技有限公司" and row["买方类型"] == "企业"
    assert row["买方所在地区"] == "天津市 滨海新区"
    assert row["中介方"] == "北京技术转移中心；+河北中介"  # only a leading trigger is escaped
    assert row["转化方式"] == "作价投资"
    assert row["作价投资（持股比例/作价金额）"] == "持股比例 12.5%／作价金额 300.00 万元（持股方：北京测试大学）"
    assert (row["落地主体"], row["落地主体统一社会信用代码"]) == ("雄安固态电池有限公司", LANDED_CODE)
    assert (row["落地地区（代码）"], row["落地地区"], row["是否京津冀"]) == \
        ("130638", "河北省 保定市 雄县", "是")
    assert row["技术领域"] == "人工智能" and row["技术经理人"] == w.brokers[0].display_name
    assert row["状态"] == "已签订"
    assert by_name[0]["是否京津冀"] == "否" and by_name[0]["技术领域"] is None
    assert by_name[0]["卖方名称"] is None and by_name[0]["技术经理人"] is None
    assert by_name[2]["状态"] == "已解除"


def test_cells_are_typed_and_the_sheet_is_styled(client, session, deals) -> None:  # type: ignore[no-untyped-def]
    sheet = load_workbook(io.BytesIO(_download(client, session).content))["技术合同登记"]
    assert sheet.freeze_panes == "A2"
    header = sheet[1]
    assert all(c.font.bold for c in header) and header[0].fill.fgColor.rgb.endswith("1F5FA8")
    assert sheet.column_dimensions["B"].width == 36 and sheet.column_dimensions["AA"].width == 10
    amount, date = sheet["E3"], sheet["D3"]
    assert amount.data_type == "n" and amount.number_format == "#,##0.00"
    assert date.is_date and date.number_format == "yyyy-mm-dd"
    assert sheet["A3"].data_type == "s"  # the registration number stays text (leading zeros)
    assert not any(isinstance(c.value, str) and c.value.startswith("=")
                   for row in sheet.iter_rows() for c in row)


def test_the_export_is_audited(client, session, deals) -> None:  # type: ignore[no-untyped-def]
    _download(client, session)
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "deals.export_register")).one()
    assert event.outcome == "success"
    assert event.detail == {"rows": 3, "from": "2025-03-01", "to": "2025-03-31"}


def test_open_period_lists_every_deal(client, session, deals) -> None:  # type: ignore[no-untyped-def]
    response = _download(client, session, "/dashboard/deals.xlsx?period=all")
    assert 'luodi-register-open_open.xlsx' in response.headers["content-disposition"]
    assert load_workbook(io.BytesIO(response.content))["技术合同登记"].max_row == 5


@pytest.mark.parametrize("role", ["viewer", "broker", "enterprise_member"])
def test_only_staff_export(client, session, deals, role) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    login(client, make_user(session, role).email)
    assert client.get("/dashboard/deals.xlsx?period=all").status_code == 403
    denied = session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("deals.export", "stats.read")),
        AuditEvent.outcome == "denied")).all()
    assert denied  # the refusal is on record
