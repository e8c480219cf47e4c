"""Paged lists: the `page` argument and the links the `pagination` macro (macros/ui.html) draws."""

from dataclasses import dataclass

from flask import request, url_for


def page_arg() -> int:
    """The page asked for (1 when absent or not a number; at most 100,000)."""
    value = request.args.get("page", "1")
    return max(1, min(int(value), 100_000)) if value.isdigit() else 1


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


@dataclass(frozen=True)
class PageLinks:
    """The `query.url(page=…)` the pagination macro calls: this page's address with its other
    arguments, another page."""

    endpoint: str

    def url(self, page: int) -> str:
        arguments = {**(request.view_args or {}), **request.args.to_dict(), "page": page}
        return url_for(self.endpoint, **arguments)
