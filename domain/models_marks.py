"""The certification mark issued to a certified client (R-10.1, R-10.2): the bronze plaque that
shows the level (R-10.1 f 认证铜牌) and every download of the mark artwork of the level held
(R-10.2), which is the start of the client's records of mark use (R-10.1 a) reviewed in
surveillance.
Append-only: a plaque's state follows its certificate (domain/mark_plaque.py), never edited."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certflow.db import UTCDateTime, db


class MarkPlaque(db.Model):
    """R-10.1(f): one bronze plaque issued for a certificate (number, level, date, recipient)."""

    __tablename__ = "mark_plaque"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    plaque_number: Mapped[str] = mapped_column(String(60), unique=True)
    star_level: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    certificate = relationship("Certificate")


class MarkArtworkDownload(db.Model):
    """R-10.2, R-10.1(a): the client downloaded the mark artwork of its level (who, when, what)."""

    __tablename__ = "mark_artwork_download"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    star_level: Mapped[int] = mapped_column(Integer)
    file_format: Mapped[str] = mapped_column(String(10))
    downloaded_by: Mapped[str] = mapped_column(String(80))
    downloaded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    certificate = relationship("Certificate")
