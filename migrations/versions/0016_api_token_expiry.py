"""API tokens expire (issue 11: integrators obtain, list and revoke their tokens through the API)

Revision ID: 0016_api_token_expiry
Revises: 0015_programme_shifts
Create Date: 2026-12-05 09:40:00

A token made through `POST /api/v1/tokens` has an expiry (wall clock); tokens issued before, and
by `certflow token`, have none (NULL).
"""

import sqlalchemy as sa
from alembic import op

from certflow.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0016_api_token_expiry"
down_revision = "0015_programme_shifts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
