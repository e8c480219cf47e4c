"""Handlers for test processes, loaded by a separate certflow process through
CERTFLOW_EXTRA_HANDLERS (never imported by the test process itself)."""

from handlers import handler


@handler("test_after_timer")
def after_timer(params, ctx):
    return {"fired_at": ctx.now.isoformat()}


@handler("test_record_acceptance")
def record_acceptance(params, ctx):
    """review_flow's service task (benchmarks/http_completions.py serves that process)."""
    return {"application_id": params["application_id"], "man_days": params["man_days"]}
