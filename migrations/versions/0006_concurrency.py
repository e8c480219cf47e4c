"""number counters, rate counters, server-side web sessions, idempotency keys (issue 9)

Revision ID: 0006_concurrency
Revises: 0005_complaints_changes
Create Date: 2026-12-05 00:50:00

The number counters start empty: domain/numbering.py raises a counter to the highest existing
number of its column on first use, so existing numbers continue.
"""
from alembic import op
import sqlalchemy as sa

import certflow.db


# revision identifiers, used by Alembic.
revision = '0006_concurrency'
down_revision = '0005_complaints_changes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('number_counter',
    sa.Column('prefix', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_number_counter'))
    )
    op.create_table('rate_counter',
    sa.Column('bucket', sa.String(length=100), nullable=False),
    sa.Column('window_started_at', certflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_rate_counter'))
    )
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counter_window_started_at'), ['window_started_at'], unique=False)

    op.create_table('web_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', certflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', certflow.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_web_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    op.create_table('idempotency_key',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('response_headers', sa.JSON(), nullable=False),
    sa.Column('created_at', certflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', certflow.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', 'key', name=op.f('pk_idempotency_key'))
    )
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_key_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_key_expires_at'))
    op.drop_table('idempotency_key')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
    op.drop_table('web_session')
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_counter_window_started_at'))
    op.drop_table('rate_counter')
    op.drop_table('number_counter')
