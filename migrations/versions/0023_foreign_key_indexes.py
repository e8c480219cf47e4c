"""every foreign key that is looked up by, indexed (issue 16)

Revision ID: 0023_foreign_key_indexes
Revises: 0022_task_completed_by
Create Date: 2026-12-06 06:20:00

A 3-year simulation of 2 000 certificates on PostgreSQL (benchmarks/lifecycle_simulation.py, 2
workers) ran at ≈ 23 task completions a second against ≈ 65 with 20 certificates. Among what
grew with the tables: `certificate` was read whole 26 534 times (47 M rows) in ≈ 74 000
completions — `domain/certificates.reissued_as` follows a certificate's reissues by
`replaces_id`, which had no index (1.9 ms a lookup at 2 000 certificates) — and
`programme_activity` once per certificate (by `audit_id`). At 100 000 certificates each such
lookup reads the whole table.

- `ix_certificate_replaces_id`, `ix_certificate_application_id`, `ix_certificate_decision_id`;
  `ix_programme_activity_audit_id`, `ix_decision_audit_id`, `ix_document_audit_id`,
  `ix_change_request_audit_id`, `ix_change_request_new_certificate_id`,
  `ix_complaint_application_id`, `ix_complaint_instance_id`, `ix_complaint_reply_document_id`,
  `ix_disclosure_notice_document_id`, `ix_process_version_deployment_id`,
  `ix_process_version_file_sha256`: every single-column foreign key has an index now
  (tests/platform/test_foreign_key_indexes.py keeps it so).
- `ix_human_task_instance_state` (instance_id, state) replaces `ix_human_task_instance_id`: a
  completion reads its instance's open tasks, and with only the one-column index the planner
  combined it with the `state` index, reading every open task's entry (5 510 at 2 000
  certificates) on each completion.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_foreign_key_indexes"
down_revision = "0022_task_completed_by"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("certificate", "replaces_id"),
    ("certificate", "application_id"),
    ("certificate", "decision_id"),
    ("programme_activity", "audit_id"),
    ("decision", "audit_id"),
    ("document", "audit_id"),
    ("change_request", "audit_id"),
    ("change_request", "new_certificate_id"),
    ("complaint", "application_id"),
    ("complaint", "instance_id"),
    ("complaint", "reply_document_id"),
    ("disclosure", "notice_document_id"),
    ("process_version", "deployment_id"),
    ("process_version_file", "sha256"),
)


def upgrade():
    for table, column in FOREIGN_KEYS:
        op.create_index(f"ix_{table}_{column}", table, [column])
    op.create_index("ix_human_task_instance_state", "human_task", ["instance_id", "state"])
    op.drop_index("ix_human_task_instance_id", table_name="human_task")


def downgrade():
    op.create_index("ix_human_task_instance_id", "human_task", ["instance_id"])
    op.drop_index("ix_human_task_instance_state", table_name="human_task")
    for table, column in reversed(FOREIGN_KEYS):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
