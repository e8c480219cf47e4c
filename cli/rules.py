"""`certflow rules catalogue` and `certflow rules coverage` (issues 13 and 15): the rules catalogue
extract from the spec (processes/rules_catalogue.yaml) and the table of every rule
(docs/rules-coverage.md), both from the domain functions the quality pages use."""

import os
from pathlib import Path

import click

from domain.rule_catalogue import ROOT, RULES_FILE, build_rules, dump_rules
from domain.rules_coverage_doc import DOCUMENT, coverage_document


def default_spec_dir() -> Path:
    """`shared/spec` beside the checkout (CERTFLOW_SPEC_DIR overrides)."""
    if os.environ.get("CERTFLOW_SPEC_DIR"):
        return Path(os.environ["CERTFLOW_SPEC_DIR"])
    for parent in ROOT.parents:
        if (parent / "shared" / "spec" / "requirements.md").is_file():
            return parent / "shared" / "spec"
    return ROOT.parent / "shared" / "spec"


@click.group("rules")
def rules_group() -> None:
    """The rules catalogue and the coverage of every rule."""


@rules_group.command("catalogue")
@click.option("--spec-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def catalogue_command(spec_dir: Path | None) -> None:
    """Write processes/rules_catalogue.yaml from requirements.md and the Chinese rules."""
    spec = spec_dir or default_spec_dir()
    rules = build_rules(
        (spec / "requirements.md").read_text(encoding="utf-8"),
        (spec / "certification-rules.zh.txt").read_text(encoding="utf-8"),
    )
    RULES_FILE.write_text(dump_rules(rules), encoding="utf-8")
    missing = [rule.id for rule in rules if not rule.text_zh]
    click.echo(f"{RULES_FILE}: {len(rules)} rules")
    if missing:
        raise click.ClickException(f"no Chinese text found for {', '.join(missing)}")


@rules_group.command("coverage")
def coverage_command() -> None:
    """Write docs/rules-coverage.md: every rule, built by what and tested by which tests."""
    DOCUMENT.write_text(coverage_document(), encoding="utf-8")
    click.echo(f"{DOCUMENT} written")
