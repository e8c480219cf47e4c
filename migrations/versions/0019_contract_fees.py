"""certification fees per contract: invoices and payments (issue 15, R-9.5.1e)

Revision ID: 0019_contract_fees
Revises: 0018_data_volume_indexes
Create Date: 2026-12-05 12:50:00

R-9.5.1(e) 未按规定缴纳认证费用: the market department invoices the fees of a contract
(`contract_invoice`) and records the payments against them (`contract_payment`); an invoice
overdue beyond the grace period starts the suspension once (`suspension_requested_at`).
"""

import sqlalchemy as sa
from alembic import op

import certflow.db

# revision identifiers, used by Alembic.
revision = "0019_contract_fees"
down_revision = "0018_data_volume_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contract_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", certflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("suspension_requested_at", certflow.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_contract_invoice_contract_id_contract")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_contract_invoice_number")),
    )
    with op.batch_alter_table("contract_invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_invoice_contract_id"), ["contract_id"], unique=False
        )
    op.create_table(
        "contract_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", certflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["contract_invoice.id"],
            name=op.f("fk_contract_payment_invoice_id_contract_invoice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_payment")),
    )
    with op.batch_alter_table("contract_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_payment_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("contract_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_payment_invoice_id"))
    op.drop_table("contract_payment")
    with op.batch_alter_table("contract_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_invoice_contract_id"))
    op.drop_table("contract_invoice")
