"""A case granted or taken through its on-site audit, in one call (tests, compliance demo)."""

from pathlib import Path

from scenarios.certification_case import Case
from scenarios.people import deploy_everything, findings_losing, make_people


def through_onsite(
    case, points_lost=80, nonconformities=(), mystery_shopping=True, conclusion="recommend"
):
    case.apply()
    case.review()
    case.contract()
    case.programme(mystery_shopping=mystery_shopping)
    case.appoint()
    case.plan_and_prepare(mystery_shopping=mystery_shopping)
    case.opening_meeting()
    case.evidence(findings_losing(points_lost))
    case.conclude(conclusion, list(nonconformities))


def one_nc():
    return [
        {
            "item_code": "5.1.1.1",
            "nature": "general",
            "description": "未建立售后服务组织架构图 no after-sales organisation chart",
            "evidence": "查阅文件 2026-02-02 documents reviewed",
        }
    ]


def granted_case(engine, clock, uploads: Path) -> Case:
    """A case through the real diagrams up to its grant with one corrected nonconformity: the
    certification instance is completed, the certificate's surveillance instance runs."""
    deploy_everything(engine)
    case = Case(engine, clock, make_people(clock.now()), uploads)
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.at(45)
    case.decide("grant", 4)
    return case
