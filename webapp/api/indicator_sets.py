"""GET /indicator-sets and /indicator-sets/{id}: the deployed versions of the GB/T 27922-2011
indicator set (R-3) with their 3 first-level, 15 second-level and 48 third-level items — the
`item_code`s the evidence and conclusion forms take (issue 11).

Reference data of a published standard, holding nothing of any organisation: every signed-in
role may read it (clients included, who prepare for the audit against it).
"""

from dataclasses import asdict
from datetime import datetime

from flask import Response, jsonify, url_for
from pydantic import BaseModel, Field
from sqlalchemy import select

from certflow.db import db
from domain.indicators import active_indicator_set
from domain.models import IndicatorSetVersion
from domain.scoring import parse_indicator_set
from engine.errors import NotFoundError
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32
from webapp.api.openapi import answers, api_spec
from webapp.api.serialize import timestamp

ID = f"int(min=1, max={MAX_INT32})"


class IndicatorItem(BaseModel):
    code: str = Field(description="Third-level item code, e.g. 5.1.1.1 (a form's item_code).")
    text_zh: str
    text_en: str
    points: int
    kind: str = Field(description="qualitative or sampled.")


class IndicatorSecondLevel(BaseModel):
    code: str
    name_zh: str
    name_en: str
    items: list[IndicatorItem]


class IndicatorFirstLevel(BaseModel):
    code: str
    name_zh: str
    name_en: str
    children: list[IndicatorSecondLevel]


class IndicatorSpecialItem(BaseModel):
    code: str = Field(description="SD-n (special deduction) or SB-n (special bonus).")
    text_zh: str
    text_en: str


class IndicatorSetSummary(BaseModel):
    id: int
    code: str
    version: str
    label: str = Field(description='"code version", as audits record the set they used.')
    title: str
    total_points: int
    sha256: str
    loaded_at: datetime
    active: bool = Field(description="The version new audits are scored against.")
    url: str


class IndicatorSetList(BaseModel):
    items: list[IndicatorSetSummary] = Field(description="Oldest first.")


class IndicatorSetDetail(IndicatorSetSummary):
    source_note: str
    indicators: list[IndicatorFirstLevel] = Field(description="The 3 first-level indicators.")
    special_deductions: list[IndicatorSpecialItem]
    special_bonus: list[IndicatorSpecialItem]


def _active_ids() -> set[int]:
    codes = db.session.scalars(select(IndicatorSetVersion.code).distinct())
    return {active_indicator_set(db.session, code)[0].id for code in codes}


def _summary(row: IndicatorSetVersion, active: set[int]) -> dict:
    content = row.content or {}
    return {
        "id": row.id,
        "code": row.code,
        "version": row.version,
        "label": f"{row.code} {row.version}",
        "title": str(content.get("title", "")),
        "total_points": int(content.get("total_points", 0)),
        "sha256": row.sha256,
        "loaded_at": timestamp(row.loaded_at),
        "active": row.id in active,
        "url": url_for("api.get_indicator_set", set_id=row.id),
    }


@bp.get("/indicator-sets")
@api_spec.validate(
    resp=answers(200, IndicatorSetList, "The loaded indicator set versions.", (401,)),
    tags=["indicator-sets"],
    operation_id="listIndicatorSets",
)
def list_indicator_sets() -> Response:
    """The loaded versions of the indicator set (R-3)."""
    rows = db.session.scalars(
        select(IndicatorSetVersion).order_by(IndicatorSetVersion.loaded_at, IndicatorSetVersion.id)
    ).all()
    active = _active_ids()
    return jsonify({"items": [_summary(row, active) for row in rows]})


@bp.get(f"/indicator-sets/<{ID}:set_id>")
@api_spec.validate(
    resp=answers(200, IndicatorSetDetail, "The indicator set with its items.", (401, 404)),
    tags=["indicator-sets"],
    operation_id="getIndicatorSet",
    path_parameter_descriptions={"set_id": "Indicator set version id."},
)
def get_indicator_set(set_id: int) -> Response:
    """One version with its tree of indicators: first level → second level → items (R-3)."""
    row = db.session.get(IndicatorSetVersion, set_id)
    if row is None:
        raise NotFoundError(f"indicator set {set_id} not found")
    parsed = asdict(parse_indicator_set(row.content, source=f"{row.code} {row.version}"))
    return jsonify(
        {
            **_summary(row, _active_ids()),
            "source_note": parsed["source_note"],
            "indicators": parsed["indicators"],
            "special_deductions": parsed["special_deductions"],
            "special_bonus": parsed["special_bonus"],
        }
    )
