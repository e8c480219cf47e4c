"""drafts of process definitions (issue 12: the process-owner studio)

Revision ID: 0011_process_drafts
Revises: 0010_complaint_documents
Create Date: 2026-12-05 06:00:00
"""

import sqlalchemy as sa
from alembic import op

import certflow.db

# revision identifiers, used by Alembic.
revision = "0011_process_drafts"
down_revision = "0010_complaint_documents"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "process_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=200), nullable=False),
        sa.Column("main_path", sa.String(length=500), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("base_sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=80), nullable=True),
        sa.Column("review_comments", sa.Text(), nullable=False),
        sa.Column("review_instance_id", sa.Integer(), nullable=True),
        sa.Column("deployed_version", sa.Integer(), nullable=True),
        sa.Column("deployed_sha256", sa.String(length=64), nullable=True),
        sa.Column("effective_at", certflow.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", certflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", certflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("process_draft", schema=None) as batch_op:
        batch_op.create_index("ix_process_draft_process_id", ["process_id"], unique=False)
        batch_op.create_index("ix_process_draft_status", ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("process_draft", schema=None) as batch_op:
        batch_op.drop_index("ix_process_draft_status")
        batch_op.drop_index("ix_process_draft_process_id")
    op.drop_table("process_draft")
