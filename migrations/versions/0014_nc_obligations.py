"""nonconformities: nature and evidence files (issue 15, R-8.7)

Revision ID: 0014_nc_obligations
Revises: 0013_auditor_register
Create Date: 2026-12-05 06:30:00

R-8.7 §8.7.2: the correction deadline depends on the nature of the nonconformity (general or
serious), so each nonconformity keeps its nature; §8.7.3: the evidence the client sends with its
answer (attachment ids) is kept with the nonconformity. Existing rows are general, without files.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_nc_obligations"
down_revision = "0013_auditor_register"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("nonconformity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nature", sa.String(length=20), nullable=False, server_default="general")
        )
        batch_op.add_column(
            sa.Column("evidence_files", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade():
    with op.batch_alter_table("nonconformity", schema=None) as batch_op:
        batch_op.drop_column("evidence_files")
        batch_op.drop_column("nature")
