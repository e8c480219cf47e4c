"""Certification fees per contract (R-9.5.1e 未按规定缴纳认证费用, R-6.2.2 the contract states the
fees): the invoices the market department issues under a contract and the payments recorded
against them. The status of an invoice is derived (domain/contract_fees.py), never stored."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from certflow.db import UTCDateTime, db


class ContractInvoice(db.Model):
    """One fee invoiced under a contract; `number` is unique (contract number + sequence)."""

    __tablename__ = "contract_invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # domain/contract_fees.py FEE_KINDS
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # CNY
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)  # the last day to pay (docs/calendar.md)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once when the overdue invoice started the suspension (R-9.5.1e): never twice.
    suspension_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contract = relationship("Contract", backref=backref("invoices", order_by="ContractInvoice.id"))


class ContractPayment(db.Model):
    """One payment received against an invoice (never more than its open balance)."""

    __tablename__ = "contract_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("contract_invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))  # bank transfer / receipt number
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    invoice = relationship(
        "ContractInvoice", backref=backref("payments", order_by="ContractPayment.id")
    )
