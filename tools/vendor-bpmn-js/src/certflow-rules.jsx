// The rules an element implements (issue 12; the traceability data of issue 13): the R-ids its
// documentation cites, chosen from the rules catalogue the server sends (`config.certflow.rules`:
// 规则第x.y条 with the rule's text; nobody types an id), and the rules processes/traceability.yaml
// maps to it (shown, edited in that file). Chosen rules are written into the element's
// documentation as its leading list ("R-6.2.1, R-7.1.1: …"), which domain/traceability_view.py
// reads back, so the deployed diagram cites them.
import { SelectEntry, isSelectEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';
import { jsx, jsxs } from '@bpmn-io/properties-panel/preact/jsx-runtime';

const RID = 'R-\\d+(?:\\.\\d+)*[a-z]?';
const TOKEN = `${RID}(?:\\s*[–-]\\s*${RID})?`; // one rule or a range "R-6.1 – R-9.2"
const LEADING = new RegExp(`^\\s*(${TOKEN}(?:\\s*[,，、]\\s*${TOKEN})*)\\s*(?:[:：]\\s*|$)`);
const ANY_RID = new RegExp(RID, 'g');

// "R-6.2.1, R-7.1.1: 评审…" → { tokens: ['R-6.2.1', 'R-7.1.1'], rest: '评审…' }
export function splitDocumentation(text) {
  const source = text || '';
  const match = LEADING.exec(source);
  if (!match) return { tokens: [], rest: source };
  return { tokens: match[1].split(/\s*[,，、]\s*/), rest: source.slice(match[0].length) };
}

export function joinDocumentation(tokens, rest) {
  if (!tokens.length) return rest;
  return rest ? `${tokens.join(', ')}: ${rest}` : tokens.join(', ');
}

function documentationOf(element) {
  const docs = getBusinessObject(element).documentation || [];
  return docs.length ? docs[0].text || '' : '';
}

function setDocumentation(injector, element, text) {
  const bo = getBusinessObject(element);
  const docs = bo.documentation || [];
  const commands = injector.get('commandStack');
  if (docs.length) {
    commands.execute('element.updateModdleProperties', {
      element,
      moddleElement: docs[0],
      properties: { text },
    });
    return;
  }
  const doc = injector.get('bpmnFactory').create('bpmn:Documentation', { text });
  doc.$parent = bo;
  commands.execute('element.updateModdleProperties', {
    element,
    moddleElement: bo,
    properties: { documentation: [doc] },
  });
}

// stands for R-6.2.2a and R-6.2.2b; R-9.5.1d (reason d of) for.
function covers(token, rid) {
  return token === rid || (rid.startsWith(token) && /^[a-z]$/.test(rid.slice(token.length)))
    || (token.startsWith(rid) && /^[a-z]$/.test(token.slice(rid.length)));
}

function formatted(rules, id) {
  const match = /^R-([\d.]+)([a-z]?)$/.exec(id);
  if (!match) return id;
  const template = match[2] ? rules.itemLabel : rules.clauseLabel;
  return template.replace('{clause}', match[1]).replace('{item}', match[2]);
}

function ruleLabel(rules, token) {
  const byId = (id) => (rules.catalogue.find((rule) => rule.id === id) || { label: formatted(rules, id) }).label;
  return token
    .split(/\s*[–-]\s*(?=R-)/)
    .map(byId)
    .join(' – ');
}

function ruleText(rules, token) {
  const rule = rules.catalogue.find((candidate) => candidate.id === token);
  return rule ? rule.text : '';
}

function item(rules, token, extra) {
  return jsxs('li', {
    class: 'cf-rule-item',
    'data-cf-rule': token,
    children: [
      jsx('strong', { children: ruleLabel(rules, token) }),
      ' ',
      jsx('span', { class: 'cf-rule-text', children: ruleText(rules, token) }),
      ...extra,
    ],
  });
}

function RuleListEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  const rules = catalogue.rules;
  const labels = catalogue.labels;
  const { tokens, rest } = splitDocumentation(documentationOf(element));
  const inText = (rest.match(ANY_RID) || []).filter((rid) => !tokens.includes(rid));
  const cited = [...tokens, ...inText];
  const mapped = (rules.mapped[getBusinessObject(element).id] || []).filter(
    (rid) => !cited.some((token) => covers(token, rid)),
  );
  const remove = (token) => () =>
    setDocumentation(
      injector,
      element,
      joinDocumentation(
        tokens.filter((other) => other !== token),
        rest,
      ),
    );
  const entries = [
    ...tokens.map((token) =>
      item(rules, token, [
        ' ',
        jsx('button', {
          type: 'button',
          class: 'cf-rule-remove',
          'data-cf-rule-remove': token,
          onClick: remove(token),
          children: labels.removeRule,
        }),
      ]),
    ),
    ...inText.map((rid) => item(rules, rid, [])),
    ...mapped.map((rid) =>
      item(rules, rid, [' ', jsx('em', { class: 'cf-rule-mapped', children: `(${labels.mappedRule})` })]),
    ),
  ];
  return jsxs('div', {
    class: 'bio-properties-panel-entry',
    'data-entry-id': id,
    children: [
      jsx('p', { class: 'bio-properties-panel-label', children: labels.rulesCited }),
      entries.length
        ? jsx('ul', { class: 'cf-rules', 'data-cf-rules': '', children: entries })
        : jsx('p', { class: 'cf-rules-none', children: labels.noRules }),
      jsx('p', { class: 'bio-properties-panel-description', children: labels.rulesHelp }),
    ],
  });
}

function AddRuleEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  const rules = catalogue.rules;
  const short = (text) => (text.length > 40 ? `${text.slice(0, 40)}…` : text);
  return jsx(SelectEntry, {
    id,
    element,
    label: catalogue.labels.addRule,
    getValue: () => '',
    setValue: (value) => {
      if (!value) return;
      const { tokens, rest } = splitDocumentation(documentationOf(element));
      if (!tokens.includes(value)) setDocumentation(injector, element, joinDocumentation([...tokens, value], rest));
    },
    getOptions: () => {
      const { tokens } = splitDocumentation(documentationOf(element));
      return [
        { value: '', label: '—' },
        ...rules.catalogue
          .filter((rule) => !tokens.includes(rule.id))
          .map((rule) => ({ value: rule.id, label: `${rule.label} ${short(rule.text)}` })),
      ];
    },
  });
}

export function rulesGroup(element, catalogue) {
  if (!catalogue.rules || element.type === 'label' || !is(element, 'bpmn:BaseElement')) return null;
  return {
    id: 'certflow-rules',
    label: catalogue.labels.rulesGroup,
    shouldOpen: true,
    entries: [
      { id: 'cf-rules', element, catalogue, component: RuleListEntry },
      { id: 'cf-rule-add', element, catalogue, component: AddRuleEntry, isEdited: isSelectEntryEdited },
    ],
  };
}
