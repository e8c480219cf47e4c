"""one NC per deduction finding; one running certificate change per certificate (issue 15)

Revision ID: 0021_deduction_ncs
Revises: 0020_mark_plaque
Create Date: 2026-12-05 12:50:00

- `nonconformity.finding_id`: the deduction finding an NC was derived from (R-8.7,
  domain/audit/deduction_ncs.py); NULL for an NC the team raised itself.
- `uq_process_instance_running_change`: at most one running `certificate_change` instance per
  business key (the certificate number): two concurrent requests of a change cannot both start
  one — the second insert fails and the request gets 409 (R-9.3, webapp/client_changes.py).
"""

import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_deduction_ncs"
down_revision = "0020_mark_plaque"
branch_labels = None
depends_on = None

RUNNING_CHANGE = "status = 'running' AND process_id = 'certificate_change'"


def upgrade():
    with warnings.catch_warnings():
        # On SQLite the batch reflects the tables nonconformity refers to, `certificate` among
        # them, whose expression index (0018, upper(number)) SQLAlchemy cannot reflect: only
        # nonconformity is rebuilt, the index stays. Without this every first `certflow init`
        # printed an SAWarning.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("nonconformity") as batch:
            batch.add_column(sa.Column("finding_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                "fk_nonconformity_finding_id_finding", "finding", ["finding_id"], ["id"]
            )
            batch.create_index("ix_nonconformity_finding_id", ["finding_id"])
    op.create_index(
        "uq_process_instance_running_change",
        "process_instance",
        ["business_key"],
        unique=True,
        sqlite_where=sa.text(RUNNING_CHANGE),
        postgresql_where=sa.text(RUNNING_CHANGE),
    )


def downgrade():
    op.drop_index("uq_process_instance_running_change", table_name="process_instance")
    with op.batch_alter_table("nonconformity") as batch:
        batch.drop_index("ix_nonconformity_finding_id")
        batch.drop_constraint("fk_nonconformity_finding_id_finding", type_="foreignkey")
        batch.drop_column("finding_id")
