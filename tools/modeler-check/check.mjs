#!/usr/bin/env node
// Checks that BPMN and DMN files load cleanly in the bpmn.io toolchain (what bpmn-js / dmn-js,
// and so bpmn.io and Camunda Modeler, use to read a file), not only in SpiffWorkflow.
//
//   node check.mjs FILE_OR_DIRECTORY...
//
// A directory stands for every *.bpmn and *.dmn file below it (sorted); an empty one is fine.
//
// .bpmn: bpmn-moddle fromXML must neither throw nor return warnings (unknown elements or
//        attributes, unresolved references, duplicate ids), and every element bpmn-js draws
//        (flow nodes, sequence flows, data object/store references, lanes, participants, message
//        flows, text annotations, associations, groups) needs a BPMNShape/BPMNEdge in one of the
//        diagrams' planes (matched by bpmnElement id).
// .dmn:  dmn-moddle fromXML must neither throw nor return warnings; DMNDI must be present and
//        every DRG element (decision, input data, business knowledge model, knowledge source)
//        needs a DMNShape.
//
// One line per problem, `file: element-id: message` ("-" when no element applies), exit 1 if
// any; `ok N files` and exit 0 otherwise; exit 2 on a usage error.
//
// Elements of an unknown namespace (the spiffworkflow extensions) inside bpmn:extensionElements
// are kept by bpmn-moddle as generic elements without warnings, and attributes of an unknown
// namespace go to $attrs without warnings, so no moddle descriptor for spiffworkflow is needed.
// Such elements outside bpmn:extensionElements do produce a warning and fail here.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import BpmnModdle from 'bpmn-moddle';
import DmnModdle from 'dmn-moddle';

// bpmn-js draws these; without DI they are silently missing from the diagram.
const BPMN_SHAPE_TYPES = [
  'bpmn:FlowNode',
  'bpmn:DataObjectReference',
  'bpmn:DataStoreReference',
  'bpmn:Lane',
  'bpmn:Participant',
  'bpmn:TextAnnotation',
  'bpmn:Group',
];
const BPMN_EDGE_TYPES = ['bpmn:SequenceFlow', 'bpmn:MessageFlow', 'bpmn:Association'];

const DMN_SHAPE_TYPES = [
  'dmn:Decision',
  'dmn:InputData',
  'dmn:BusinessKnowledgeModel',
  'dmn:KnowledgeSource',
];

function isA(element, type) {
  return typeof element?.$instanceOf === 'function' && element.$instanceOf(type);
}

function isModdleElement(value) {
  return value !== null && typeof value === 'object' && typeof value.$type === 'string';
}

// The nearest id for a moddle element: its own, else "ancestorId/type" from its parents.
function elementLabel(element) {
  if (!isModdleElement(element)) return '-';
  if (element.id) return element.id;
  const path = [element.$type];
  for (let parent = element.$parent; parent; parent = parent.$parent) {
    if (parent.id) return `${parent.id}/${path.join('/')}`;
    path.unshift(parent.$type);
  }
  return path.join('/');
}

// moddle-xml messages span lines ("...\n\tline: 3\n\tcolumn: 5\n\tnested error: ..."); make
// them one line.
function oneLine(message) {
  const text = String(message);
  const head = text.split('\n')[0].trim();
  const line = /\n\s*line: (\d+)/.exec(text);
  const column = /\n\s*column: (\d+)/.exec(text);
  const nested = /\n\s*nested error: ([^\n]*)/.exec(text);
  let result = head;
  if (line) result += ` (line ${line[1]}${column ? `, column ${column[1]}` : ''})`;
  if (nested) result += `: ${nested[1].trim()}`;
  return result;
}

function warningProblems(warnings) {
  return (warnings || []).map((warning) => [elementLabel(warning.element), oneLine(warning.message)]);
}

// Every moddle element contained (not referenced) below `root`, excluding the properties named
// in `skip` (the DI, checked separately) and generic (unknown-namespace) elements' insides.
function* containedElements(root, skip) {
  const stack = [root];
  while (stack.length) {
    const element = stack.pop();
    yield element;
    const descriptor = element.$descriptor;
    if (!descriptor || descriptor.isGeneric || !descriptor.properties) continue;
    for (const property of descriptor.properties) {
      if (property.isReference || property.isAttr || skip.has(property.ns.name)) continue;
      const value = element.get(property.ns.name);
      const children = Array.isArray(value) ? value : [value];
      for (const child of children.slice().reverse()) {
        if (isModdleElement(child)) stack.push(child);
      }
    }
  }
}

async function parse(moddle, xml) {
  try {
    const result = await moddle.fromXML(xml);
    const warned = new Set((result.warnings || []).map((warning) => warning.element));
    return { result, warned, problems: warningProblems(result.warnings) };
  } catch (err) {
    return {
      result: null,
      problems: [['-', oneLine(err.message)], ...warningProblems(err.warnings)],
    };
  }
}

async function checkBpmn(xml) {
  const { result, warned, problems } = await parse(new BpmnModdle(), xml);
  if (!result) return problems;
  const definitions = result.rootElement;
  if (!isA(definitions, 'bpmn:Definitions')) {
    return [...problems, ['-', `root element is ${definitions?.$type}, not bpmn:definitions`]];
  }
  const diagrams = definitions.diagrams || [];
  if (diagrams.length === 0) {
    return [...problems, [definitions.id || '-', 'no bpmndi:BPMNDiagram: the modeler shows nothing']];
  }

  const diByElement = new Map();
  for (const diagram of diagrams) {
    const plane = diagram.plane;
    if (!plane) {
      problems.push([elementLabel(diagram), 'BPMNDiagram without a BPMNPlane']);
      continue;
    }
    for (const di of plane.planeElement || []) {
      const target = di.bpmnElement;
      if (!target) {
        // An unresolved bpmnElement is already reported as a warning.
        if (!warned.has(di)) problems.push([elementLabel(di), `${di.$type} without bpmnElement`]);
        continue;
      }
      if (diByElement.has(target.id)) {
        problems.push([target.id, `more than one DI element (${di.id || di.$type})`]);
        continue;
      }
      diByElement.set(target.id, di);
    }
  }

  for (const element of containedElements(definitions, new Set(['diagrams']))) {
    let wanted = null;
    if (BPMN_SHAPE_TYPES.some((type) => isA(element, type))) wanted = 'bpmndi:BPMNShape';
    else if (BPMN_EDGE_TYPES.some((type) => isA(element, type))) wanted = 'bpmndi:BPMNEdge';
    if (!wanted) continue;
    const di = diByElement.get(element.id);
    const label = element.id || elementLabel(element);
    if (!di) {
      problems.push([label, `${element.$type} has no ${wanted} in any BPMNDiagram (not drawn by bpmn-js)`]);
    } else if (di.$type !== wanted) {
      problems.push([label, `${element.$type} is drawn by a ${di.$type}, expected ${wanted}`]);
    }
  }
  return problems;
}

async function checkDmn(xml) {
  const { result, warned, problems } = await parse(new DmnModdle(), xml);
  if (!result) return problems;
  const definitions = result.rootElement;
  if (!isA(definitions, 'dmn:Definitions')) {
    return [...problems, ['-', `root element is ${definitions?.$type}, not a DMN 1.3 definitions`]];
  }
  const dmnDI = definitions.dmnDI;
  if (!dmnDI || !(dmnDI.diagrams || []).length) {
    return [...problems, [definitions.id || '-', 'no dmndi:DMNDI with a DMNDiagram: the modeler cannot lay out the DRD']];
  }
  const diByElement = new Map();
  for (const diagram of dmnDI.diagrams) {
    for (const di of diagram.diagramElements || []) {
      const target = di.dmnElementRef;
      if (!target) {
        if (!warned.has(di)) problems.push([elementLabel(di), `${di.$type} without dmnElementRef`]);
        continue;
      }
      if (diByElement.has(target.id)) {
        problems.push([target.id, `more than one DI element (${di.id || di.$type})`]);
        continue;
      }
      diByElement.set(target.id, di);
    }
  }
  for (const element of definitions.drgElement || []) {
    if (!DMN_SHAPE_TYPES.some((type) => isA(element, type))) continue;
    const di = diByElement.get(element.id);
    if (!di) {
      problems.push([element.id || elementLabel(element), `${element.$type} has no dmndi:DMNShape`]);
    } else if (di.$type !== 'dmndi:DMNShape') {
      problems.push([element.id, `${element.$type} is drawn by a ${di.$type}, expected dmndi:DMNShape`]);
    }
  }
  return problems;
}

async function checkFile(file) {
  let xml;
  try {
    xml = await readFile(file, 'utf8');
  } catch (err) {
    return [['-', `cannot read: ${err.message}`]];
  }
  const lower = file.toLowerCase();
  if (lower.endsWith('.bpmn')) return checkBpmn(xml);
  if (lower.endsWith('.dmn')) return checkDmn(xml);
  return [['-', 'not a .bpmn or .dmn file']];
}

const MODEL_FILE = /\.(bpmn|dmn)$/i;

async function expand(args) {
  const files = [];
  for (const arg of args) {
    const info = await stat(arg).catch(() => null);
    if (info?.isDirectory()) {
      const found = (await readdir(arg, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile() && MODEL_FILE.test(entry.name))
        .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name));
      files.push(...found.sort());
    } else {
      files.push(arg);
    }
  }
  return files;
}

async function main(args) {
  if (args.length === 0) {
    process.stderr.write('usage: node check.mjs FILE.bpmn|FILE.dmn|DIRECTORY...\n');
    return 2;
  }
  const files = await expand(args);
  let failed = 0;
  for (const file of files) {
    const problems = await checkFile(file);
    if (problems.length) failed += 1;
    for (const [id, message] of problems) process.stdout.write(`${file}: ${id}: ${message}\n`);
  }
  if (failed) {
    process.stderr.write(`${failed} of ${files.length} files have problems\n`);
    return 1;
  }
  process.stdout.write(`ok ${files.length} files\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
