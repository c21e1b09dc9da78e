"""Importing each kind: links to enterprises and institutions, money, dates, mapping profiles."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from luodi.auth.actor import system_actor
from luodi.cli import app
from luodi.inventory import codes
from luodi.inventory.importers import MappingProfile
from luodi.inventory.models import Demand, Enterprise, Expert, Institution
from luodi.inventory.profiles import delete_profile, get_profile, list_profiles, save_profile
from luodi.inventory.records import create_record
from tests.inventory.files import counts, write_csv

runner = CliRunner()
CODE_A = codes.make_credit_code(1, region="110108")


def _run(kind: str, path: Path, *extra: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["import", kind, str(path), "--json", *extra])
    return result.exit_code, json.loads(result.stdout)


def test_demands_link_enterprises_and_read_money_and_dates(env, db, tmp_path: Path) -> None:
    headers = ["需求编号", "需求名称", "需求描述", "企业名称", "统一社会信用代码", "预算",
               "截止日期", "合作方式", "是否保密"]
    rows = [["X-1", "高精度视觉检测设备需求", "检测钢板表面缺陷。", "北京示范科技有限公司", CODE_A,
             "10-50万", "2026年6月30日", "技术开发；许可", "否"],
            ["X-2", "锂电池回收工艺需求", "回收正极材料。", "北京示范科技有限公司", CODE_A,
             "50万以上", "2026/12/31", "转让", "是"],
            ["X-3", "一个预算写错的需求", "预算不可读。", "天津示范公司", "", "很多钱", "", "", ""]]
    code, report = _run("demands", write_csv(tmp_path / "demands.csv", headers, rows))
    assert code == 1 and report["accepted"] == 2
    assert report["errors"] == [{"row": 4, "column": "预算", "value": "很多钱",
                                 "reason": report["errors"][0]["reason"]}]
    with db.sessions() as session:
        demands = {d.external_id: d for d in session.scalars(select(Demand))}
        enterprise = session.scalar(select(Enterprise))
        assert enterprise.credit_code == CODE_A and counts(db)["enterprises"] == 1
        first, second = demands["X-1"], demands["X-2"]
        assert (first.budget_min_wan, first.budget_max_wan) == (Decimal(10), Decimal(50))
        assert (second.budget_min_wan, second.budget_max_wan) == (Decimal(50), None)
        assert str(first.deadline) == "2026-06-30" and second.confidential
        assert first.cooperation_modes == ["development_service", "license"]
        assert first.enterprise_id == second.enterprise_id == enterprise.id


def test_demand_links_existing_enterprise_by_credit_code(env, session, db, settings,
                                                         tmp_path: Path) -> None:
    existing = create_record(session, system_actor(), "enterprises",
                             {"name": "已登记企业", "credit_code": CODE_A}, settings=settings)
    headers = ["需求名称", "企业名称", "统一社会信用代码"]
    path = write_csv(tmp_path / "d.csv", headers, [["新材料需求", "另一个写法的企业名", CODE_A]])
    assert _run("demands", path)[0] == 0
    with db.sessions() as fresh:
        assert fresh.scalar(select(Demand.enterprise_id)) == existing.id
        assert counts(db)["enterprises"] == 1


def test_enterprise_credit_code_owned_by_another_source(env, session, db, settings,
                                                        tmp_path: Path) -> None:
    create_record(session, system_actor(), "enterprises",
                  {"name": "已登记企业", "credit_code": CODE_A}, settings=settings)
    path = write_csv(tmp_path / "e.csv", ["企业名称", "统一社会信用代码"], [["同一家企业", CODE_A]])
    code, report = _run("enterprises", path)
    assert code == 1 and report["errors"][0]["column"] == "统一社会信用代码"
    assert "another source" in report["errors"][0]["reason"]
    assert counts(db)["enterprises"] == 1


def test_experts_link_known_institutions_else_keep_affiliation(env, session, db, settings,
                                                               tmp_path: Path) -> None:
    known = create_record(session, system_actor(), "institutions", {"name": "北京示范大学"},
                          settings=settings)
    headers = ["姓名", "工作单位", "职称", "专长", "邮箱"]
    rows = [["张三", "北京示范大学", "教授", "锂电池；固态电解质", "zhang@example.cn"],
            ["李四", "某未登记研究所", "研究员", "机器视觉", "li@example.cn"]]
    assert _run("experts", write_csv(tmp_path / "x.csv", headers, rows))[0] == 0
    with db.sessions() as fresh:
        experts = {e.name: e for e in fresh.scalars(select(Expert))}
        assert experts["张三"].institution_id == known.id and experts["张三"].affiliation is None
        assert experts["李四"].institution_id is None
        assert experts["李四"].affiliation == "某未登记研究所"
        assert experts["张三"].skills == ["锂电池", "固态电解质"]
        assert experts["张三"].consent == "none"  # an import never grants consent (PIPL)
        assert counts(db)["institutions"] == 1


def test_institutions_with_labels(env, db, tmp_path: Path) -> None:
    headers = ["机构名称", "机构类型", "所在地区", "网址"]
    rows = [["北京示范大学", "高校", "北京市海淀区", "https://example.edu.cn"],
            ["天津示范研究院", "研究院", "朝阳区", ""]]
    code, report = _run("institutions", write_csv(tmp_path / "i.csv", headers, rows))
    assert code == 1 and report["errors"][0]["column"] == "所在地区"
    assert "ambiguous" in report["errors"][0]["reason"]
    with db.sessions() as fresh:
        institution = fresh.scalar(select(Institution))
        assert (institution.kind, institution.region_code) == ("university", "110108")


def test_profiles_service_round_trip(session) -> None:
    profile = MappingProfile("供应商甲", "achievements", columns={"项目": "title", "忽略": None},
                             constants={"source": "supplier-a"})
    save_profile(session, system_actor(), profile)
    assert get_profile(session, system_actor(), "供应商甲") == profile
    assert [p.name for p in list_profiles(session, system_actor(), "achievements")] == ["供应商甲"]
    assert list_profiles(session, system_actor(), "demands") == []
    delete_profile(session, system_actor(), "供应商甲")
    assert list_profiles(session, system_actor()) == []


def test_import_with_a_saved_profile_through_the_cli(env, db, tmp_path: Path) -> None:
    spec = {"name": "supplier-a", "kind": "achievements",
            "columns": {"项目": "title", "内部编码": "external_id", "忽略": None},
            "constants": {"source": "supplier-a", "status": "published"}}
    spec_path = tmp_path / "profile.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(app, ["import-profile", "save", str(spec_path)]).exit_code == 0
    listed = runner.invoke(app, ["import-profile", "list"])
    assert "supplier-a\tachievements" in listed.stdout
    path = write_csv(tmp_path / "supplier.csv", ["内部编码", "项目", "忽略"],
                     [["S-1", "一种新型传感器", "x"]])
    code, report = _run("achievements", path, "--mapping", "supplier-a")
    assert code == 0 and report["header_mapping"] == {"内部编码": "external_id", "项目": "title"}
    assert report["unknown_headers"] == []
    with db.sessions() as fresh:
        from luodi.inventory.models import Achievement

        row = fresh.scalar(select(Achievement))
        assert (row.source, row.external_id, row.status) == ("supplier-a", "S-1", "published")


def test_profile_cli_list_json_and_delete(env, tmp_path: Path) -> None:
    specs = [{"name": "p-1", "kind": "demands", "columns": {"标题": "title"}},
             {"name": "p-2", "kind": "experts", "columns": {"专家": "name"}}]
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(specs, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(app, ["import-profile", "save", str(path)]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["import-profile", "list", "--json",
                                            "--kind", "demands"]).stdout)
    assert [p["name"] for p in listed] == ["p-1"]
    assert runner.invoke(app, ["import-profile", "delete", "p-1"]).exit_code == 0
    assert runner.invoke(app, ["import-profile", "delete", "p-1"]).exit_code == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "kind": "experts", "columns": {"a": "nope"}}),
                   encoding="utf-8")
    result = runner.invoke(app, ["import-profile", "save", str(bad)])
    assert result.exit_code == 2 and "not a field of experts" in result.output
