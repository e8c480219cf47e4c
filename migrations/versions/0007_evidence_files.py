"""evidence files per finding (issue 10: evidence as a checklist)

Revision ID: 0007_evidence_files
Revises: 0006_concurrency
Create Date: 2026-12-05 03:15:00

The files an auditor attaches to a finding of the evidence checklist (R-8.5.2, R-8.5.4): a list
of attachment ids; existing findings have none.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_evidence_files'
down_revision = '0006_concurrency'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('evidence_files', sa.JSON(), nullable=False, server_default='[]')
        )


def downgrade():
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('evidence_files')
