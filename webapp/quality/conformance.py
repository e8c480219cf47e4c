"""Conformance checking (issue 13): the finished cases of a process replayed on the model of
the version they ran on (domain.conformance), the deviating ones listed with the first task
the model does not allow there, or that they could not have ended as they did."""

from dataclasses import dataclass
from functools import lru_cache

from flask import render_template, request
from flask_babel import lazy_gettext

from certflow.db import db
from domain.conformance import Model, Verdict, build_model, element_names, replay
from engine.query_quality import (
    FinishedTrace,
    finished_traces,
    version_register,
)
from engine.sources import version_sources
from webapp.auth import roles_required
from webapp.quality import QUALITY_ROLES, bp, section
from webapp.runtime import get_engine

CASE_LIMIT = 500  # the newest finished cases of the process
section(
    "quality.conformance",
    lazy_gettext("Conformance"),
    lazy_gettext(
        "The finished cases replayed on the deployed model: the cases whose steps did not "
        "follow the diagram."
    ),
    order=40,
)


@dataclass(frozen=True)
class Checked:
    trace: FinishedTrace
    verdict: Verdict
    activity: str  # the name of the task the model refused ("" when none)


@lru_cache(maxsize=32)
def _model(process_id: str, version: int, sha256: str) -> tuple[Model, dict[str, str], bool]:
    """(model, element names, whether replay can decide on it). Keyed by the version's hash
    too: a deployed version never changes."""
    sources = version_sources(db.session, process_id, version)
    files = {path: text.encode("utf-8") for path, text in sources.files.items()}
    model = build_model(files, process_id)
    decidable = not replay(model, [], finished=False).undecided
    return model, element_names(files), decidable


def check_process(process_id: str) -> list[Checked]:
    hashes = {
        (r.process_id, r.version): r.sha256
        for r in version_register(db.session)
        if r.process_id == process_id
    }
    checked = []
    for trace in finished_traces(db.session, process_id, CASE_LIMIT):
        model, names, decidable = _model(
            process_id, trace.version, hashes[(process_id, trace.version)]
        )
        verdict = (
            replay(model, list(trace.elements), finished=True)
            if decidable
            else Verdict(False, undecided=True)
        )
        name = names.get(verdict.element_id or "", verdict.element_id or "")
        checked.append(Checked(trace, verdict, name))
    return checked


@bp.get("/conformance")
@roles_required(*QUALITY_ROLES)
def conformance():
    processes = {p.process_id: p.name for p in get_engine().latest_processes()}
    chosen = request.args.get("process", "")
    errors = {}
    if chosen and chosen not in processes:
        errors["process"] = lazy_gettext("Choose a process from the list.")
    checked = check_process(chosen) if chosen and not errors else []
    page = render_template(
        "quality/conformance.html",
        processes=processes,
        chosen=chosen,
        errors=errors,
        checked=checked,
        deviating=[c for c in checked if not c.verdict.conforms and not c.verdict.undecided],
        undecided=[c for c in checked if c.verdict.undecided],
        conforming=sum(1 for c in checked if c.verdict.conforms),
    )
    return page, 422 if errors else 200
