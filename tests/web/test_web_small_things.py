"""Issue 10, "Small things users notice": the site icon."""

from tests.web_support import Browser, text, web_fixture  # noqa: F401


def test_favicon_is_a_real_icon_and_every_page_links_it(web):
    anonymous = Browser(web.app)
    response = anonymous.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO header
    for page in (anonymous.get("/login"), web.browser("mia").get("/")):
        assert '<link rel="icon" href="/favicon.ico"' in text(page)
