"""GET /certificates…: the certificate resource of the JSON API (issue 11).

Who sees a certificate: whoever may see its organisation's case (webapp/access.py,
`case_visible_clause`, R-11) — a client only its own organisation's, staff the cases they have a
part in, the overseeing roles all. Anyone else gets 404, as if it did not exist. Its documents
follow the case's document rule (clients read only the notices and reports addressed to them),
its instances the instance-page rule (`may_see_case_instance`).
"""

from typing import Any

from flask import Response, jsonify, url_for
from sqlalchemy import ColumnElement, exists, func, or_, select

from certflow.db import db
from domain.models import Application, Certificate, CertificateEvent, Document, Organisation
from engine.errors import NotFoundError
from engine.service import InstanceView
from webapp import access
from webapp.api import certificate_models as cm
from webapp.api.blueprint import bp
from webapp.api.models import MAX_PAGE
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import query
from webapp.api.serialize import timestamp, viewer
from webapp.runtime import get_engine

NUMBER = "string(maxlength=40)"
PATH = {"number": "Certificate number, e.g. CTC-SHFW-2026-0001."}


def visible_clause(who: access.Viewer) -> ColumnElement[bool]:
    """SQL condition on Certificate: the viewer may see the organisation's case (R-11)."""
    cases = select(Organisation.id).where(access.case_visible_clause(who))
    return Certificate.organisation_id.in_(cases)


def visible_certificate(number: str) -> Certificate:
    """The certificate, or 404 when there is none or the user may not see it."""
    wanted = "".join(number.split()).upper()
    if "\x00" in wanted:  # PostgreSQL cannot compare text with NUL; no number holds one
        raise NotFoundError("certificate not found")
    certificate = db.session.scalars(
        select(Certificate).where(
            func.upper(Certificate.number) == wanted, visible_clause(viewer())
        )
    ).first()
    if certificate is None:
        raise NotFoundError(f"certificate {number} not found")
    return certificate


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# -- serialization --------------------------------------------------------------------------------
def summary_json(certificate: Certificate) -> dict[str, Any]:
    return {
        "number": certificate.number,
        "status": certificate.status,
        "star_level": certificate.star_level,
        "organisation": {
            "id": certificate.organisation_id,
            "name": certificate.organisation_name,
            "address": certificate.organisation_address,
        },
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
        "url": url_for("api.get_certificate", number=certificate.number),
    }


def _number_of(certificate_id: int | None) -> str | None:
    if certificate_id is None:
        return None
    return db.session.scalar(select(Certificate.number).where(Certificate.id == certificate_id))


def detail_json(certificate: Certificate) -> dict[str, Any]:
    suspended = set(certificate.suspended_sites or [])
    replaced_by = db.session.scalar(
        select(Certificate.number).where(Certificate.replaces_id == certificate.id).limit(1)
    )
    number = certificate.number
    return {
        **summary_json(certificate),
        "scope": certificate.scope,
        "sites": [
            {
                "id": site["id"],
                "name": site["name"],
                "address": site["address"],
                "is_fixed": bool(site.get("is_fixed")),
                "suspended": site["id"] in suspended,
            }
            for site in certificate.sites or []
        ],
        "standard": certificate.standard,
        "rules": certificate.rules,
        "issuing_body": certificate.issuing_body,
        "original_issued_on": certificate.original_issued_on.isoformat(),
        "changed_on": certificate.changed_on.isoformat() if certificate.changed_on else None,
        "status_changed_on": (
            certificate.status_changed_on.isoformat() if certificate.status_changed_on else None
        ),
        "mark": certificate.mark,
        "mark_use_allowed": certificate.mark_use_allowed,
        "replaces": _number_of(certificate.replaces_id),
        "replaced_by": replaced_by,
        "links": {
            "history": url_for("api.certificate_history", number=number),
            "documents": url_for("api.certificate_documents", number=number),
            "instances": url_for("api.certificate_instances", number=number),
        },
    }


# -- routes ---------------------------------------------------------------------------------------
@bp.get("/certificates")
@api_spec.validate(
    query=cm.CertificateQuery,
    resp=answers(200, cm.CertificatePage, "One page of certificates.", (401, 422)),
    tags=["certificates"],
    operation_id="listCertificates",
)
def list_certificates() -> Response:
    """Certificates the user may see, newest number first.

    A client sees its own organisation's; staff those of the cases they have a part in; admin,
    quality_manager and process_owner all.
    """
    filters: cm.CertificateQuery = query()
    limit = min(filters.limit, MAX_PAGE)
    statement = select(Certificate).where(visible_clause(viewer()))
    if filters.number is not None:
        wanted = "".join(filters.number.split()).upper()
        statement = statement.where(func.upper(Certificate.number).like(_like(wanted), escape="\\"))
    if filters.organisation is not None:
        name = _like(filters.organisation.strip().lower())
        statement = statement.where(
            func.lower(Certificate.organisation_name).like(name, escape="\\")
        )
    if filters.status is not None:
        statement = statement.where(Certificate.status == filters.status)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(
        statement.order_by(Certificate.number.desc()).limit(limit).offset(filters.offset)
    ).all()
    return jsonify(
        {
            "items": [summary_json(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": filters.offset,
        }
    )


@bp.get(f"/certificates/<{NUMBER}:number>")
@api_spec.validate(
    resp=answers(200, cm.Certificate, "The certificate.", (401, 404)),
    tags=["certificates"],
    operation_id="getCertificate",
    path_parameter_descriptions=PATH,
)
def get_certificate(number: str) -> Response:
    """One certificate: status, star level, scope, sites, validity and organisation."""
    return jsonify(detail_json(visible_certificate(number)))


@bp.get(f"/certificates/<{NUMBER}:number>/history")
@api_spec.validate(
    resp=answers(200, cm.CertificateEventList, "The status history.", (401, 404)),
    tags=["certificates"],
    operation_id="getCertificateHistory",
    path_parameter_descriptions=PATH,
)
def certificate_history(number: str) -> Response:
    """The certificate's status history: issue, suspensions, restorations, changes, its end
    (R-9.5)."""
    certificate = visible_certificate(number)
    events = db.session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id == certificate.id)
        .order_by(CertificateEvent.at, CertificateEvent.id)
    )
    return jsonify(
        {
            "items": [
                {
                    "event": event.event,
                    "rule": event.rule,
                    "reason": event.reason or "",
                    "status_before": event.status_before,
                    "status_after": event.status_after,
                    "sites": list(event.sites or []),
                    "actor": event.actor,
                    "at": timestamp(event.at),
                    "effective_on": event.effective_on.isoformat(),
                }
                for event in events
            ]
        }
    )


@bp.get(f"/certificates/<{NUMBER}:number>/documents")
@api_spec.validate(
    resp=answers(200, cm.CaseDocumentList, "The documents the user may read.", (401, 404)),
    tags=["certificates"],
    operation_id="listCertificateDocuments",
    path_parameter_descriptions=PATH,
)
def certificate_documents(number: str) -> Response:
    """The documents of the certificate's cycle (its application, audits, surveillance,
    changes): a client reads only the notices and reports addressed to it, staff all (R-11)."""
    certificate = visible_certificate(number)
    who = viewer()
    rows = db.session.scalars(
        select(Document)
        .where(
            Document.organisation_id == certificate.organisation_id,
            Document.application_id == certificate.application_id,
        )
        .order_by(Document.created_at, Document.id)
    )
    return jsonify(
        {
            "items": [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "title": row.title,
                    "body": row.body,
                    "created_at": timestamp(row.created_at),
                    "created_by": row.created_by,
                }
                for row in rows
                if access.may_read_document(who, row)
            ]
        }
    )


def cycle_instances(certificate: Certificate) -> list[InstanceView]:
    """The process instances of the certificate's cycle: its application's (certification) and
    those keyed by its number (surveillance, suspension, changes, recertification)."""

    def of_cycle(instance_id, business_key):
        links = [business_key == certificate.number]
        if certificate.application_id is not None:
            links.append(
                exists(
                    select(Application.id)
                    .where(
                        Application.id == certificate.application_id,
                        access.application_link(instance_id, business_key),
                    )
                    .correlate_except(Application)
                )
            )
        return or_(*links)

    return get_engine().list_instances(of_cycle)


@bp.get(f"/certificates/<{NUMBER}:number>/instances")
@api_spec.validate(
    resp=answers(200, cm.InstanceLinkList, "The instances the user may see.", (401, 404)),
    tags=["certificates"],
    operation_id="listCertificateInstances",
    path_parameter_descriptions=PATH,
)
def certificate_instances(number: str) -> Response:
    """Links to the process instances of the certificate's cycle the user may see."""
    certificate = visible_certificate(number)
    who = viewer()
    return jsonify(
        {
            "items": [
                {
                    "id": instance.id,
                    "process_id": instance.process_id,
                    "business_key": instance.business_key,
                    "status": instance.status,
                    "started_at": timestamp(instance.started_at),
                    "ended_at": timestamp(instance.ended_at),
                    "url": url_for("api.get_instance", instance_id=instance.id),
                }
                for instance in cycle_instances(certificate)
                if access.may_see_case_instance(who, instance)
            ]
        }
    )
