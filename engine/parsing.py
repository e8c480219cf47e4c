"""The one place that builds the BPMN/DMN parser (XSD-validating, spiffworkflow extensions)."""

from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser


def make_parser() -> SpiffBpmnParser:
    return SpiffBpmnParser(validator=VALIDATOR)
