"""client self-service: link requests and client-started cases (issue 10)

Revision ID: 0009_client_signup
Revises: 0008_comment_visibility
Create Date: 2026-12-05 03:00:00
"""
from alembic import op
import sqlalchemy as sa

import certflow.db


# revision identifiers, used by Alembic.
revision = '0009_client_signup'
down_revision = '0008_comment_visibility'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('link_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('stated_name', sa.String(length=300), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=50), nullable=False),
    sa.Column('contact_email', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_at', certflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', certflow.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_link_request_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_link_request_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_request')),
    sa.UniqueConstraint('user_id', name=op.f('uq_link_request_user_id'))
    )
    with op.batch_alter_table('link_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_request_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_request_status'), ['status'], unique=False)

    op.create_table('case_binding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('started_by', sa.String(length=80), nullable=False),
    sa.Column('started_at', certflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_case_binding_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_case_binding_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_binding')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_case_binding_instance_id'))
    )
    with op.batch_alter_table('case_binding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_binding_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_binding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_binding_organisation_id'))
    op.drop_table('case_binding')
    with op.batch_alter_table('link_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_request_status'))
        batch_op.drop_index(batch_op.f('ix_link_request_organisation_id'))
    op.drop_table('link_request')
