"""Issue 14 (d): the letters, notices and reports are translated through their own catalogue
(Babel domain `letters`, domain/letters/translations). Chinese stays exactly the text the CB has
always issued; English has no Chinese left and no message without a translation."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from certflow.settings import SettingsError, load_settings
from domain.letter_templates import CATALOGUE_DIR, TEMPLATE_DIR, render_letter
from handlers.registry import get_handler, handler, unregister
from tests.letters.letter_facts import letter_facts

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots_zh"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
CASES = [
    (name, index, facts)
    for name, fact_sets in sorted(letter_facts().items())
    for index, facts in enumerate(fact_sets)
]
IDS = [f"{name}.{index}" for name, index, _ in CASES]


def extracted_msgids() -> set[str]:
    """What `pybabel extract -F babel-letters.cfg` (make translations) finds."""
    with (ROOT / "babel-letters.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map
        )
    }


def english_catalogue():
    path = CATALOGUE_DIR / "en" / "LC_MESSAGES" / "letters.po"
    with path.open("rb") as fh:
        return read_po(fh, locale="en", domain="letters")


def test_every_letter_template_has_representative_facts():
    names = {
        path.name.removesuffix(".md.j2")
        for path in TEMPLATE_DIR.glob("*.md.j2")
        if not path.name.startswith("_")
    }
    assert len(names) == 29  # + the shared _certificate_dates part: the 30 templates
    assert names == set(letter_facts())


@pytest.mark.parametrize(("name", "index", "facts"), CASES, ids=IDS)
def test_every_letter_in_chinese_is_the_text_issued_before(name, index, facts):
    """The snapshots were rendered by the templates before they were translated."""
    expected = (SNAPSHOTS / f"{name}.{index}.md").read_text(encoding="utf-8")
    assert render_letter(name, **facts) == expected
    assert render_letter(name, locale="zh_CN", **facts) == expected


@pytest.mark.parametrize(("name", "index", "facts"), CASES, ids=IDS)
def test_every_letter_renders_in_english_without_chinese(name, index, facts):
    text = render_letter(name, locale="en", **facts)
    assert CJK.findall(text) == [], text
    assert text.strip()


def test_every_message_of_the_letters_has_an_english_translation():
    catalogue = english_catalogue()
    messages = extracted_msgids()
    assert len(messages) > 100
    # Every message id carries Chinese, so an English letter without Chinese (above) also means
    # that no message id was printed untranslated.
    assert [m for m in messages if not CJK.search(m)] == []
    untranslated = [
        m for m in messages if not catalogue.get(m) or not catalogue[m].string or catalogue[m].fuzzy
    ]
    assert untranslated == []
    for message in messages:
        translation = catalogue[message].string
        assert not CJK.search(translation), translation
        assert set(PLACEHOLDER.findall(translation)) <= set(PLACEHOLDER.findall(message)), message


def test_the_english_catalogue_has_no_message_the_letters_no_longer_use():
    stale = {m.id for m in english_catalogue() if m.id} - extracted_msgids()
    assert stale == set()


def test_an_unknown_document_locale_is_refused():
    assert load_settings().document_locale == "zh_CN"
    assert load_settings({"document_locale": "en"}).document_locale == "en"
    with pytest.raises(SettingsError, match="CERTFLOW_DOCUMENT_LOCALE"):
        load_settings({"document_locale": "fr"})
    with pytest.raises(ValueError, match="no letters catalogue"):
        render_letter(
            "announcement_restored", locale="fr", **letter_facts()["announcement_restored"][0]
        )


@pytest.fixture
def letter_handler():
    facts = letter_facts()["announcement_restored"][0]

    @handler("test.render_restored")
    def render(params, ctx) -> str:
        return render_letter("announcement_restored", **facts)

    yield get_handler("test.render_restored")
    unregister("test.render_restored")


def test_handlers_write_letters_in_the_locale_of_their_settings(letter_handler):
    """CERTFLOW_DOCUMENT_LOCALE reaches the renderer through the handler context."""
    english = SimpleNamespace(settings=load_settings({"document_locale": "en"}))
    chinese = SimpleNamespace(settings=load_settings())
    assert letter_handler({}, english).startswith("Certificate CTC-ASS-2026-0001 is valid again")
    assert letter_handler({}, chinese).startswith("Acme Service Ltd 的商品售后服务认证证书")
    assert letter_handler({}, None).startswith("Acme Service Ltd 的商品售后服务认证证书")
