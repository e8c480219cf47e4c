"""the tasks a person completed, by index (issue 16)

Revision ID: 0022_task_completed_by
Revises: 0021_deduction_ncs
Create Date: 2026-12-05 19:10:00

- `ix_human_task_completed_by_instance`: the inbox's "stopped cases I worked on" and every task
  list's "assigned to or completed by me" look tasks up by `completed_by`; without an index the
  planner could only read `human_task` whole (it grows by ~10 rows per certificate year).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_task_completed_by"
down_revision = "0021_deduction_ncs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_human_task_completed_by_instance", "human_task", ["completed_by", "instance_id"]
    )


def downgrade():
    op.drop_index("ix_human_task_completed_by_instance", table_name="human_task")
