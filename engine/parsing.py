"""The one place that builds the BPMN/DMN parser (XSD-validating, spiffworkflow extensions)."""

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser


def make_parser() -> SpiffBpmnParser:
    return SpiffBpmnParser(validator=VALIDATOR)


def xml_parser() -> etree.XMLParser:
    """No entity expansion, no network: a definition file must not read server files (XXE)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False)


def parse_xml(data: bytes):
    return etree.fromstring(data, xml_parser())
