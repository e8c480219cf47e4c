"""application declarations (issue 15: R-13 attestation, R-11 public information, R-6.2.2b)

Revision ID: 0012_application_declarations
Revises: 0011_process_drafts
Create Date: 2026-12-05 06:15:00

The client's signed attestation of the truth and legality of its application (R-13), its
acknowledgement of what the registry will make public (R-11) and each resubmission after a
non-acceptance (R-6.2.2b), each with the exact text shown; append-only.
"""
import sqlalchemy as sa
from alembic import op

from certflow.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0012_application_declarations'
down_revision = '0011_process_drafts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'application_declaration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('signatory_name', sa.String(length=100), nullable=True),
        sa.Column('signatory_position', sa.String(length=100), nullable=True),
        sa.Column('signed_on', sa.Date(), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('application_declaration', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_application_declaration_application_id'), ['application_id']
        )


def downgrade():
    with op.batch_alter_table('application_declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_declaration_application_id'))
    op.drop_table('application_declaration')
