"""undelivered queued messages indexed on their own (issue 16)

Revision ID: 0025_queued_message_undelivered
Revises: 0024_instance_state_storage
Create Date: 2026-12-06 12:00:00

Every task completion asks, in the query that reads the task, whether any undelivered queued
message correlates with the task's instance (engine/task_operations.py); only then does it look
for one to deliver. Delivered messages are never deleted (they are the history of what arrived
when), so without this partial index the question would read them all.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_queued_message_undelivered"
down_revision = "0024_instance_state_storage"
branch_labels = None
depends_on = None

UNDELIVERED = "delivered_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_queued_message_undelivered",
        "queued_message",
        ["id"],
        sqlite_where=sa.text(UNDELIVERED),
        postgresql_where=sa.text(UNDELIVERED),
    )


def downgrade() -> None:
    op.drop_index("ix_queued_message_undelivered", table_name="queued_message")
