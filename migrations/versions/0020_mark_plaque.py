"""the bronze plaque and the mark artwork downloads (issue 15, R-10.1 f, R-10.2)

Revision ID: 0020_mark_plaque
Revises: 0019_contract_fees
Create Date: 2026-12-05 12:50:00

R-10.1(f) 认证铜牌: `mark_plaque` records each plaque issued for a certificate (number, level, date,
recipient). R-10.2: `mark_artwork_download` records every download of the mark artwork of the
level held (the client's records of mark use, R-10.1 a, reviewed in surveillance).
"""

import sqlalchemy as sa
from alembic import op

import certflow.db

# revision identifiers, used by Alembic.
revision = "0020_mark_plaque"
down_revision = "0019_contract_fees"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mark_plaque",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("plaque_number", sa.String(length=60), nullable=False),
        sa.Column("star_level", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", certflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_mark_plaque_certificate_id_certificate"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mark_plaque")),
        sa.UniqueConstraint("plaque_number", name=op.f("uq_mark_plaque_plaque_number")),
    )
    with op.batch_alter_table("mark_plaque", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mark_plaque_certificate_id"), ["certificate_id"], unique=False
        )
    op.create_table(
        "mark_artwork_download",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("star_level", sa.Integer(), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("downloaded_by", sa.String(length=80), nullable=False),
        sa.Column("downloaded_at", certflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_mark_artwork_download_certificate_id_certificate"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mark_artwork_download")),
    )
    with op.batch_alter_table("mark_artwork_download", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mark_artwork_download_certificate_id"), ["certificate_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("mark_artwork_download", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mark_artwork_download_certificate_id"))
    op.drop_table("mark_artwork_download")
    with op.batch_alter_table("mark_plaque", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mark_plaque_certificate_id"))
    op.drop_table("mark_plaque")
