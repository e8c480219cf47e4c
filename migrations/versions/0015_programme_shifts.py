"""audit programme: the client's shifts (issue 15, R-7.1.4)

Revision ID: 0015_programme_shifts
Revises: 0014_nc_obligations
Create Date: 2026-12-05 07:30:00

R-7.1.4: a client working in shifts gets a programme that names its shifts (name and hours), so
the audit plan can be checked to cover each of them or to say why not. Existing programmes have
no named shifts (their shift-work notes stay).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_programme_shifts"
down_revision = "0014_nc_obligations"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_programme", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shifts", sa.JSON(), nullable=False, server_default="[]"))


def downgrade():
    with op.batch_alter_table("audit_programme", schema=None) as batch_op:
        batch_op.drop_column("shifts")
