"""indexes for the pages at data volume (issue 16)

Revision ID: 0018_data_volume_indexes
Revises: 0017_programme_revisions
Create Date: 2026-12-05 09:50:00

The public registry search (webapp/registry.py) looks a certificate up by
`upper(number) = :q OR organisation_name ILIKE '%q%'`; EXPLAIN showed a sequential scan of
`certificate` (benchmarks/data_volume.py --explain). An index on upper(number) answers the
number, and on PostgreSQL a trigram GIN index (pg_trgm, a trusted extension: the database owner
may create it) answers the name — Chinese names included — so the two become a BitmapOr of index
scans. SQLite gets the expression index only (it has no trigram index; its LIKE scans).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_data_volume_indexes"
down_revision = "0017_programme_revisions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_certificate_number_upper", "certificate", [sa.text("upper(number)")])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_certificate_organisation_name_trgm",
            "certificate",
            ["organisation_name"],
            postgresql_using="gin",
            postgresql_ops={"organisation_name": "gin_trgm_ops"},
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_certificate_organisation_name_trgm", table_name="certificate")
    op.drop_index("ix_certificate_number_upper", table_name="certificate")
