"""documents without an organisation (issue 11: a public complaint's letters)

Revision ID: 0010_complaint_documents
Revises: 0009_client_signup
Create Date: 2026-12-05 04:00:00

A complaint about the CB lodged by the public names no organisation; its acknowledgement,
reminder and reply letters are kept as documents all the same (R-12), so `document.organisation_id`
may be empty. Such documents belong to no case: the case pages never list them (a NULL matches no
organisation) and they carry the complaint's id in `data`.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_complaint_documents'
down_revision = '0009_client_signup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM document WHERE organisation_id IS NULL")
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
