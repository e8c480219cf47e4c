"""task comment visibility (internal / client); certificate signatory title (issue 10)

Revision ID: 0008_comment_visibility
Revises: 0007_evidence_files
Create Date: 2026-12-05 03:00:00

Existing comments become "internal" (staff only): whether a client was meant to read them is
unknown, and confidentiality (R-11) is the safe side. Existing certificates keep an empty title.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_comment_visibility'
down_revision = '0007_evidence_files'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task_comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.String(length=10), server_default='internal', nullable=False))
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signatory_title', sa.String(length=100), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('signatory_title')
    with op.batch_alter_table('task_comment', schema=None) as batch_op:
        batch_op.drop_column('visibility')
