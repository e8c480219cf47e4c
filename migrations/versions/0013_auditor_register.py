"""the auditor register's history: registration, evaluations, renewals (R-7.2.2)

Revision ID: 0013_auditor_register
Revises: 0012_application_declarations
Create Date: 2026-12-05 06:30:00

HR registers, evaluates and renews auditors in the product (issue 11 "People", issue 15
R-7.2.2); each event is one row of `auditor_event`. A renewal holds the evaluation it rests on
(`evaluation_id`, unique): one evaluation renews once, concurrent renewals store one.
"""
import sqlalchemy as sa
from alembic import op

import certflow.db

# revision identifiers, used by Alembic.
revision = '0013_auditor_register'
down_revision = '0012_application_declarations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('auditor_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('auditor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.Column('evaluator', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('expires_before', sa.Date(), nullable=True),
    sa.Column('expires_after', sa.Date(), nullable=True),
    sa.Column('evaluation_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', certflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['auditor.id'], name=op.f('fk_auditor_event_auditor_id_auditor')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['auditor_event.id'], name=op.f('fk_auditor_event_evaluation_id_auditor_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auditor_event')),
    sa.UniqueConstraint('evaluation_id', name=op.f('uq_auditor_event_evaluation_id'))
    )
    with op.batch_alter_table('auditor_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditor_event_auditor_id'), ['auditor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('auditor_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditor_event_auditor_id'))
    op.drop_table('auditor_event')
