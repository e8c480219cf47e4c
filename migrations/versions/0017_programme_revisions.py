"""audit programme revisions (issue 15, R-7.1.2)

Revision ID: 0017_programme_revisions
Revises: 0016_api_token_expiry
Create Date: 2026-12-05 09:40:00

R-7.1.2 审查方案的确定和任何后续调整: every change of an audit programme is kept as a numbered
revision (why, who, when, what changed, the programme after the change) in
`audit_programme_revision`. Existing programmes get their present state as revision 1
("baseline") at their first change (domain/programme_revisions.py).
"""

import sqlalchemy as sa
from alembic import op

import certflow.db

# revision identifiers, used by Alembic.
revision = "0017_programme_revisions"
down_revision = "0016_api_token_expiry"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_programme_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason_kind", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("revised_by", sa.String(length=80), nullable=False),
        sa.Column("revised_at", certflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["audit_programme.id"],
            name=op.f("fk_audit_programme_revision_programme_id_audit_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_programme_revision")),
        sa.UniqueConstraint(
            "programme_id", "number", name=op.f("uq_audit_programme_revision_programme_id")
        ),
    )
    with op.batch_alter_table("audit_programme_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_programme_revision_programme_id"), ["programme_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("audit_programme_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_programme_revision_programme_id"))
    op.drop_table("audit_programme_revision")
