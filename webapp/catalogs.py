"""The message catalogues, maintained with pybabel (README "Translations", `make translations`).

`extract_messages` reads the same mapping as `pybabel extract -F babel.cfg` (the tests use it to
find untranslated entries); `compile_catalogs` runs babel's own compiler for each messages.po
whose .mo is missing or older, so a fresh checkout starts without a build step.
"""

import logging
import os
import uuid
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CompileCatalog, parse_mapping_cfg

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
BABEL_CFG = ROOT / "babel.cfg"
# The Makefile's `translations` target passes the same ones (`-k lazy_gettext -k …`).
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}


def extract_messages() -> Catalog:
    """Every translatable message that `pybabel extract -F babel.cfg` finds, as a Catalog."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="certflow", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every messages.po whose .mo is missing or stale; returns the files written."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        # Written aside and renamed: two processes starting at once never see half a file.
        temporary = mo_path.with_name(f"{mo_path.stem}.{uuid.uuid4().hex}.mo.part")
        try:
            _babel_compile(po_path, temporary, locale=po_path.parent.parent.name)
            os.chmod(temporary, 0o644)
            os.replace(temporary, mo_path)
        except OSError as err:  # a read-only installation: use the .mo files it came with
            temporary.unlink(missing_ok=True)
            log.warning("cannot compile %s: %s", po_path, err)
            continue
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        written.append(mo_path)
    return written


def _babel_compile(po_path: Path, mo_path: Path, *, locale: str) -> None:
    """`pybabel compile -i PO -o MO -l LOCALE`, in-process."""
    command = CompileCatalog()
    command.initialize_options()
    command.input_file = str(po_path)
    command.output_file = str(mo_path)
    command.locale = locale
    command.domain = "messages"
    command.finalize_options()
    if command.run():
        raise RuntimeError(f"{po_path}: babel could not compile the catalogue")
