"""The definition review process (processes/definition_review.bpmn, issue 12): the guard that
keeps the author of a change from deciding on it, and the operators that deploy an approved draft
or return a rejected one to its author (ISO/IEC 17065 §8.3: approved before use, four eyes)."""

from pydantic import Field

from domain.errors import RuleViolation
from domain.models_studio import ProcessDraft
from domain.studio import RULE, record_approval, record_rejection, reviewer_refusal
from engine.errors import DeploymentError
from engine.sources import deploy_sources, version_sources
from handlers.params import Id, OptionalText, Params
from handlers.registry import REGISTRY, GuardContext, HandlerContext, guard, handler


@guard("definition_reviewer_not_author")
def reviewer_not_author(ctx: GuardContext) -> str | None:
    draft_id = ctx.data.get("draft_id")
    draft = ctx.session.get(ProcessDraft, draft_id) if isinstance(draft_id, int) else None
    return reviewer_refusal(draft, ctx.actor)


class DeployDraftParams(Params):
    draft_id: Id = Field(description="the draft under review")
    comments: OptionalText = Field(None, description="the reviewer's comments")


@handler("studio.deploy_draft", params=DeployDraftParams)
def deploy_draft(params: DeployDraftParams, ctx: HandlerContext) -> dict:
    """Deploy the approved draft as a new version, in the review's transaction; the draft keeps
    author, approver, reason, hash and effective time. A deployed version newer than the draft's
    base, or a problem found by validation, stops here (an incident) and deploys nothing."""
    draft = _draft(ctx, params.draft_id)
    refusal = reviewer_refusal(draft, ctx.actor)
    if refusal:
        raise RuleViolation(RULE, refusal)
    deployed = version_sources(ctx.session, draft.process_id)
    if draft.base_version is not None and deployed.version != draft.base_version:
        raise RuleViolation(
            RULE,
            f"version {deployed.version} was deployed after the draft started from version "
            f"{draft.base_version}: start a new draft from the current version",
        )
    try:
        result = deploy_sources(
            ctx.session,
            draft.files,
            registry=REGISTRY,
            actor=ctx.actor,
            comment=f"{draft.reason} (author {draft.author}, approved by {ctx.actor})",
            now=ctx.now,
        )
    except DeploymentError as err:
        raise RuleViolation(RULE, "; ".join(map(str, err.problems))) from None
    created = [v for v in result.created if v.process_id == draft.process_id]
    version, sha256 = (created[0].version, created[0].sha256) if created else (None, None)
    record_approval(
        draft,
        approver=ctx.actor,
        comments=params.comments or "",
        version=version,
        sha256=sha256 or draft.base_sha256,
        now=ctx.now,
    )
    return {"version": version, "sha256": draft.deployed_sha256}


class ReturnDraftParams(Params):
    draft_id: Id = Field(description="the draft under review")
    comments: OptionalText = Field(None, description="why it goes back to the author")


@handler("studio.return_draft", params=ReturnDraftParams)
def return_draft(params: ReturnDraftParams, ctx: HandlerContext) -> dict:
    draft = _draft(ctx, params.draft_id)
    record_rejection(draft, reviewer=ctx.actor, comments=params.comments or "", now=ctx.now)
    return {"status": draft.status}


def _draft(ctx: HandlerContext, draft_id: int) -> ProcessDraft:
    draft = ctx.session.get(ProcessDraft, draft_id)
    if draft is None:
        raise RuleViolation(RULE, f"draft {draft_id} does not exist")
    return draft
