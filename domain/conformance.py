"""Conformance checking (issue 13): does what happened in a case — the sequence of its completed
human tasks — follow the deployed BPMN model?

The model is read from the version's BPMN files as a token game, the BPMN semantics written as
a Petri net: each sequence flow is a place; an activity X has a place `at:X` (entered through
any incoming flow, completed into all outgoing flows); exclusive and event-based gateways pick
one way, parallel gateways take and give a token on every flow; call activities and embedded
subprocesses run their process in a namespace of their own and complete when it is empty;
boundary events fire from `at:X` (interrupting ones empty X's namespace); terminate end events
empty their scope; event subprocesses may start while their scope runs. Only human tasks are
visible (the event log records their completion); every other step moves invisibly.

Replay keeps every marking the model could be in (closed under invisible moves, at most
`CAP` tokens per place so that loops of non-interrupting timers stay finite) and fires the
logged task from any of them; a task no marking allows is the deviation. A finished case must
also be able to reach the empty marking. Token-based replay on a Petri net converted from the
BPMN, as pm4py offers — done here because pm4py's BPMN import does not read boundary events
and call activities (it fails on certification.bpmn) and pm4py is AGPL-licensed, so it stays a
test dependency only."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from io import BytesIO

from lxml import etree

from certflow.process_texts import safe_xml_parser

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAP = 1  # tokens per place: keeps loops of non-interrupting timers finite
MAX_MARKINGS = 5_000  # beyond this the replay gives up (undecided) instead of running on
MAX_DEPTH = 6  # nesting of call activities (recertification → certification → onsite_audit)
_USER = {"userTask", "manualTask"}
_ACTIVITIES = {"task", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask"}
_ACTIVITIES |= _USER | {"callActivity", "subProcess"}
_PASS = {"intermediateCatchEvent", "intermediateThrowEvent"}
_CHOICE = {"exclusiveGateway", "eventBasedGateway", "inclusiveGateway"}

Marking = frozenset  # of (place, count)


@dataclass(frozen=True)
class Move:
    label: str | None  # the user task's element id; None: invisible
    consume: tuple[str, ...]
    produce: tuple[str, ...]
    clear: str | None = None  # a namespace emptied after firing
    needs_empty: str | None = None  # fires only when no token lies in this namespace
    needs_active: str | None = None  # fires only when some token lies in this namespace


@dataclass
class Model:
    starts: list[Marking] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)

    def visible(self, label: str) -> list[Move]:
        return [m for m in self.moves if m.label == label]

    @property
    def invisible(self) -> list[Move]:
        return [m for m in self.moves if m.label is None]


@dataclass(frozen=True)
class Verdict:
    conforms: bool
    position: int | None = None  # index in the trace of the first task the model refuses
    element_id: str | None = None
    unfinished: bool = False  # every task fit, but the model cannot end there
    undecided: bool = False  # too many markings to decide


def _local(node) -> str:
    return etree.QName(node).localname


def processes_of(files: Mapping[str, bytes]) -> dict[str, object]:
    """{process id: its <process> element} over every BPMN file of a version's source set."""
    found: dict[str, object] = {}
    for path, content in files.items():
        if path.endswith(".bpmn"):
            root = etree.parse(BytesIO(content), safe_xml_parser()).getroot()
            for process in root.iter(f"{{{BPMN}}}process"):
                found[process.get("id")] = process
    return found


class _Builder:
    def __init__(self, processes: Mapping[str, object]) -> None:
        self.processes = processes
        self.moves: list[Move] = []

    def scope(self, container, ns: str, depth: int) -> list[str]:
        """Add the moves of a process or subprocess in namespace `ns`; return the places its
        (non-event) start events mark."""
        if depth > MAX_DEPTH:
            raise ValueError("call activities nested too deep")
        children = [c for c in container if isinstance(c.tag, str)]
        incoming: dict[str, list[str]] = {}
        outgoing: dict[str, list[str]] = {}
        for flow in (c for c in children if _local(c) == "sequenceFlow"):
            outgoing.setdefault(flow.get("sourceRef"), []).append(ns + flow.get("id"))
            incoming.setdefault(flow.get("targetRef"), []).append(ns + flow.get("id"))
        starts: list[str] = []
        for node in children:
            kind, ident = _local(node), node.get("id")
            ins, outs = incoming.get(ident, []), tuple(outgoing.get(ident, []))
            if kind == "startEvent":
                starts.extend(outs)
            elif kind == "endEvent":
                terminate = node.find(f"{{{BPMN}}}terminateEventDefinition") is not None
                for place in ins:
                    self.moves.append(Move(None, (place,), (), clear=ns if terminate else None))
            elif kind in _PASS:
                for place in ins:
                    self.moves.append(Move(None, (place,), outs))
            elif kind in _CHOICE:
                for place in ins:
                    for out in outs:
                        self.moves.append(Move(None, (place,), (out,)))
            elif kind == "parallelGateway":
                self.moves.append(Move(None, tuple(ins), outs))
            elif kind == "subProcess" and node.get("triggeredByEvent") == "true":
                self._event_subprocess(node, ns, depth)
            elif kind in _ACTIVITIES:
                self._activity(node, kind, ns, ins, outs, depth)
            elif kind == "boundaryEvent":
                self._boundary(node, ns, outs)
        return starts

    def _activity(self, node, kind: str, ns: str, ins, outs, depth: int) -> None:
        ident = node.get("id")
        at = f"{ns}at:{ident}"
        inner = f"{ns}{ident}/"
        seeded: tuple[str, ...] = ()
        if kind == "callActivity":
            called = self.processes.get(node.get("calledElement"))
            if called is None:
                raise ValueError(f"{ident} calls {node.get('calledElement')!r}, not in the version")
            seeded = tuple(self.scope(called, inner, depth + 1))
        elif kind == "subProcess":
            seeded = tuple(self.scope(node, inner, depth + 1))
        for place in ins:
            self.moves.append(Move(None, (place,), (at, *seeded)))
        label = ident if kind in _USER else None
        self.moves.append(Move(label, (at,), outs, needs_empty=inner if seeded else None))

    def _boundary(self, node, ns: str, outs) -> None:
        attached = node.get("attachedToRef")
        at = f"{ns}at:{attached}"
        if node.get("cancelActivity") == "false":
            self.moves.append(Move(None, (at,), (at, *outs)))
        else:
            self.moves.append(Move(None, (at,), outs, clear=f"{ns}{attached}/"))

    def _event_subprocess(self, node, ns: str, depth: int) -> None:
        inner = f"{ns}{node.get('id')}/"
        starts = tuple(self.scope(node, inner, depth + 1))
        start = node.find(f"{{{BPMN}}}startEvent")
        interrupting = start is None or start.get("isInterrupting") != "false"
        # An interrupting one empties its scope first (the clear happens before the produce).
        clear = ns if interrupting else None
        self.moves.append(Move(None, (), starts, clear=clear, needs_active=ns))


def build_model(files: Mapping[str, bytes], process_id: str) -> Model:
    processes = processes_of(files)
    if process_id not in processes:
        raise ValueError(f"process {process_id!r} is not in the files")
    builder = _Builder(processes)
    main = processes[process_id]
    model = Model(moves=builder.moves)
    for start in main:
        if isinstance(start.tag, str) and _local(start) == "startEvent":
            flows = [
                f.get("id")
                for f in main
                if isinstance(f.tag, str)
                and _local(f) == "sequenceFlow"
                and f.get("sourceRef") == start.get("id")
            ]
            model.starts.append(_marking(Counter(flows)))
    builder.scope(main, "", 0)  # the moves; its starts are the alternatives above
    return model


def _marking(tokens: Counter) -> Marking:
    return frozenset((place, n) for place, n in tokens.items() if n > 0)


def _in_namespace(tokens: Counter, ns: str) -> bool:
    return any(place.startswith(ns) and n > 0 for place, n in tokens.items())


def _fire(marking: Marking, move: Move) -> Marking | None:
    tokens = Counter(dict(marking))
    needed = Counter(move.consume)
    if any(tokens[place] < n for place, n in needed.items()):
        return None
    if move.needs_empty is not None and _in_namespace(tokens, move.needs_empty):
        return None
    if move.needs_active is not None and not _in_namespace(tokens, move.needs_active):
        return None
    tokens.subtract(needed)
    if move.clear is not None:
        for place in list(tokens):
            if place.startswith(move.clear):
                tokens[place] = 0
    tokens.update(move.produce)
    if any(tokens[place] > CAP for place in move.produce):
        return None
    return _marking(tokens)


def _closure(markings: Iterable[Marking], moves: list[Move]) -> set[Marking] | None:
    by_place: dict[str, list[Move]] = {}
    spontaneous = [m for m in moves if not m.consume]  # event subprocesses
    for move in moves:
        if move.consume:
            by_place.setdefault(move.consume[0], []).append(move)
    seen = set(markings)
    todo = list(seen)
    while todo:
        marking = todo.pop()
        candidates = [m for place, _ in marking for m in by_place.get(place, ())]
        for move in candidates + spontaneous:
            following = _fire(marking, move)
            if following is not None and following not in seen:
                seen.add(following)
                todo.append(following)
                if len(seen) > MAX_MARKINGS:
                    return None
    return seen


def replay(model: Model, trace: list[str], *, finished: bool) -> Verdict:
    """Replay the completed human tasks `trace` (element ids, in order) on the model."""
    invisible = model.invisible
    states = _closure(model.starts, invisible)
    for position, element_id in enumerate(trace):
        if states is None:
            return Verdict(False, undecided=True)
        moves = model.visible(element_id)
        fired = {f for m in states for move in moves if (f := _fire(m, move)) is not None}
        if not fired:
            return Verdict(False, position=position, element_id=element_id)
        states = _closure(fired, invisible)
    if states is None:
        return Verdict(False, undecided=True)
    if finished and frozenset() not in states:
        return Verdict(False, unfinished=True)
    return Verdict(True)


def element_names(files: Mapping[str, bytes]) -> dict[str, str]:
    """{element id: name} of every named element of the version's BPMN files."""
    names: dict[str, str] = {}
    for process in processes_of(files).values():
        for node in process.iter(f"{{{BPMN}}}*"):
            if node.get("id") and node.get("name"):
                names[node.get("id")] = node.get("name")
    return names
