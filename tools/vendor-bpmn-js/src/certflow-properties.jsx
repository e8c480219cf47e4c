// Properties of certflow's spiffworkflow extensions, chosen from lists the server sends
// (`config.certflow`): the registered operators with their declared parameters, the forms of
// the draft, the role catalogue, the registered guards and validators, the deployed processes
// and the draft's decisions (what call activities and business rule tasks call), the rules catalogue
// (certflow-rules.jsx); messages' payload and variable (certflow-message.jsx); user tasks' due and follow-up times and instructions (with a preview
// rendered by the server, certflow-user-task.jsx). Labels come translated
// from the server.
import {
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { messageGroup, openEventGroups } from './certflow-message.jsx';
import { rulesGroup } from './certflow-rules.jsx';
import { InstructionsPreview, isIsoDuration } from './certflow-user-task.jsx';

const OPERATOR = 'spiffworkflow:ServiceTaskOperator';
const PROPERTIES = 'spiffworkflow:Properties';
const INSTRUCTIONS = 'spiffworkflow:InstructionsForEndUser';
const CALLED_DECISION = 'spiffworkflow:CalledDecisionId';

function extension(bo, type) {
  const values = (bo.extensionElements && bo.extensionElements.values) || [];
  return values.find((value) => value.$instanceOf(type));
}

function update(injector, element, moddleElement, properties) {
  injector.get('commandStack').execute('element.updateModdleProperties', {
    element,
    moddleElement,
    properties,
  });
}

function create(injector, type, attrs, parent) {
  const created = injector.get('bpmnFactory').create(type, attrs);
  created.$parent = parent;
  return created;
}

function ensureExtension(injector, element, type, attrs) {
  const bo = getBusinessObject(element);
  let container = bo.extensionElements;
  if (!container) {
    container = create(injector, 'bpmn:ExtensionElements', { values: [] }, bo);
    update(injector, element, bo, { extensionElements: container });
  }
  let found = extension(bo, type);
  if (!found) {
    found = create(injector, type, attrs, container);
    update(injector, element, container, { values: [...(container.values || []), found] });
  }
  return found;
}

// -- service tasks: the operator and its declared parameters ------------------------------------
function operatorOf(element) {
  return extension(getBusinessObject(element), OPERATOR);
}

function parametersOf(element) {
  const operator = operatorOf(element);
  return (operator && operator.parameterList && operator.parameterList.parameters) || [];
}

function setOperator(injector, element, name, catalogue) {
  const operator = ensureExtension(injector, element, OPERATOR, {});
  const declared = catalogue.operators[name] || [];
  const list = create(injector, 'spiffworkflow:Parameters', { parameters: [] }, operator);
  list.parameters = declared
    .filter((param) => param.required)
    .map((param) =>
      create(injector, 'spiffworkflow:Parameter', { id: param.name, type: 'any', value: param.name }, list),
    );
  update(injector, element, operator, { id: name, parameterList: list });
}

function setParameter(injector, element, name, value) {
  const operator = ensureExtension(injector, element, OPERATOR, {});
  let list = operator.parameterList;
  if (!list) {
    list = create(injector, 'spiffworkflow:Parameters', { parameters: [] }, operator);
    update(injector, element, operator, { parameterList: list });
  }
  const params = list.parameters || [];
  const existing = params.find((param) => param.id === name);
  if (!value) {
    if (existing) update(injector, element, list, { parameters: params.filter((p) => p !== existing) });
  } else if (existing) {
    update(injector, element, existing, { value });
  } else {
    const param = create(injector, 'spiffworkflow:Parameter', { id: name, type: 'any', value }, list);
    update(injector, element, list, { parameters: [...params, param] });
  }
}

function OperatorEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return jsx(SelectEntry, {
    id,
    element,
    label: catalogue.labels.operator,
    getValue: () => (operatorOf(element) || {}).id || '',
    setValue: (value) => setOperator(injector, element, value, catalogue),
    getOptions: () => [
      { value: '', label: '—' },
      ...Object.keys(catalogue.operators)
        .sort()
        .map((name) => ({ value: name, label: name })),
    ],
    debounce,
  });
}

function ParameterEntry({ element, id, param, catalogue }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const type = (param.schema && param.schema.type) || '';
  return jsx(TextFieldEntry, {
    id,
    element,
    label: `${param.name}${param.required ? ' *' : ''}`,
    description: [param.description, Array.isArray(type) ? type.join('|') : type]
      .filter(Boolean)
      .join(' · ') || catalogue.labels.parameter,
    getValue: () => (parametersOf(element).find((p) => p.id === param.name) || {}).value || '',
    setValue: (value) => setParameter(injector, element, param.name, (value || '').trim()),
    debounce,
  });
}

// -- user tasks: task properties (due time, form) ------------------------------------------------
function propertyOf(element, name) {
  const properties = extension(getBusinessObject(element), PROPERTIES);
  return ((properties && properties.properties) || []).find((p) => p.name === name);
}

function setProperty(injector, element, name, value) {
  const existing = propertyOf(element, name);
  if (existing && value) return update(injector, element, existing, { value });
  if (existing) {
    const properties = extension(getBusinessObject(element), PROPERTIES);
    return update(injector, element, properties, {
      properties: properties.properties.filter((p) => p !== existing),
    });
  }
  if (!value) return;
  const properties = ensureExtension(injector, element, PROPERTIES, { properties: [] });
  const property = create(injector, 'spiffworkflow:Property', { name, value }, properties);
  update(injector, element, properties, { properties: [...(properties.properties || []), property] });
}

// dueIn / followUpIn: checked as `certflow validate` checks them (SpiffWorkflow's ISO 8601
// duration grammar, engine/validation_checks.py) before the change is applied.
function DurationEntry({ element, id, name, label, description, catalogue }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return jsx(TextFieldEntry, {
    id,
    element,
    label,
    description,
    getValue: () => (propertyOf(element, name) || {}).value || '',
    setValue: (value) => setProperty(injector, element, name, (value || '').trim()),
    validate: (value) =>
      !value || !value.trim() || isIsoDuration(value.trim()) ? null : catalogue.labels.durationInvalid,
    debounce,
  });
}

// guard / validate: a name the registry holds (handlers/ registers them), or none.
function RegisteredEntry({ element, id, name, label, choices }) {
  const injector = useService('injector');
  return jsx(SelectEntry, {
    id,
    element,
    label,
    getValue: () => (propertyOf(element, name) || {}).value || '',
    setValue: (value) => setProperty(injector, element, name, value),
    getOptions: () => {
      const current = (propertyOf(element, name) || {}).value;
      const names = current && !choices.includes(current) ? [...choices, current] : choices;
      return [{ value: '', label: '—' }, ...names.map((choice) => ({ value: choice, label: choice }))];
    },
  });
}

// The instructions for the person doing the task (markdown with {{ placeholders }}).
function instructionsOf(element) {
  const found = extension(getBusinessObject(element), INSTRUCTIONS);
  return (found && found.value) || '';
}

function setInstructions(injector, element, text) {
  const bo = getBusinessObject(element);
  const existing = extension(bo, INSTRUCTIONS);
  if (!text) {
    if (existing) {
      const container = bo.extensionElements;
      update(injector, element, container, { values: container.values.filter((v) => v !== existing) });
    }
    return;
  }
  update(injector, element, ensureExtension(injector, element, INSTRUCTIONS, {}), { value: text });
}

function InstructionsEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return jsx(TextAreaEntry, {
    id,
    element,
    label: catalogue.labels.instructions,
    description: catalogue.labels.instructionsHelp,
    rows: 6,
    getValue: () => instructionsOf(element),
    setValue: (value) => setInstructions(injector, element, (value || '').trim() ? value : ''),
    debounce,
  });
}

function InstructionsPreviewEntry({ element, catalogue }) {
  return jsx(InstructionsPreview, { text: instructionsOf(element), catalogue });
}

function FormEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  return jsx(SelectEntry, {
    id,
    element,
    label: catalogue.labels.form,
    getValue: () => (propertyOf(element, 'formJsonSchemaFilename') || {}).value || '',
    setValue: (value) => setProperty(injector, element, 'formJsonSchemaFilename', value),
    getOptions: () => [
      { value: '', label: '—' },
      ...catalogue.forms.map((path) => ({ value: path, label: path })),
    ],
  });
}

// A lane named by a role's Chinese name shows that role; an unknown name is shown as it is (the
// live validation marks it) rather than as the first role of the list.
function laneRole(element, catalogue) {
  const name = getBusinessObject(element).name || '';
  const role = catalogue.roles.find((r) => r.id === name || (r.aliases || []).includes(name));
  return role ? role.id : name;
}

function RoleEntry({ element, id, catalogue }) {
  const modeling = useService('modeling');
  return jsx(SelectEntry, {
    id,
    element,
    label: catalogue.labels.role,
    getValue: () => laneRole(element, catalogue),
    setValue: (value) => modeling.updateProperties(element, { name: value }),
    getOptions: () => withCurrent(catalogue.roles, laneRole(element, catalogue)).slice(1), // no '—': a lane is a role
  });
}

// -- call activities and business rule tasks: what they call -----------------------------------
function withCurrent(rows, current) {
  const options = rows.map((row) => ({ value: row.id, label: row.label }));
  if (current && !rows.some((row) => row.id === current)) options.push({ value: current, label: current });
  return [{ value: '', label: '—' }, ...options];
}

function CalledProcessEntry({ element, id, catalogue }) {
  const modeling = useService('modeling');
  return jsx(SelectEntry, {
    id,
    element,
    label: catalogue.labels.calledProcess,
    getValue: () => getBusinessObject(element).calledElement || '',
    setValue: (value) => modeling.updateProperties(element, { calledElement: value || undefined }),
    getOptions: () => withCurrent(catalogue.called.processes, getBusinessObject(element).calledElement),
  });
}

function calledDecisionOf(element) {
  const found = extension(getBusinessObject(element), CALLED_DECISION);
  return (found && found.value) || '';
}

function CalledDecisionEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  return jsx(SelectEntry, {
    id,
    element,
    label: catalogue.labels.calledDecision,
    getValue: () => calledDecisionOf(element),
    setValue: (value) => {
      const bo = getBusinessObject(element);
      const existing = extension(bo, CALLED_DECISION);
      if (value) {
        update(injector, element, ensureExtension(injector, element, CALLED_DECISION, {}), { value });
      } else if (existing) {
        const container = bo.extensionElements;
        update(injector, element, container, { values: container.values.filter((v) => v !== existing) });
      }
    },
    getOptions: () => withCurrent(catalogue.called.decisions, calledDecisionOf(element)),
  });
}

function calledGroup(element, catalogue) {
  const entry = is(element, 'bpmn:CallActivity')
    ? { id: 'cf-calledElement', component: CalledProcessEntry }
    : { id: 'cf-calledDecision', component: CalledDecisionEntry };
  return {
    id: 'certflow-called',
    label: catalogue.labels.calledGroup,
    shouldOpen: true,
    entries: [{ ...entry, element, catalogue, isEdited: isSelectEntryEdited }],
  };
}

// -- the provider ---------------------------------------------------------------------------------
function serviceTaskGroup(element, catalogue) {
  const operator = operatorOf(element);
  const declared = (operator && catalogue.operators[operator.id]) || [];
  return {
    id: 'certflow-service',
    label: catalogue.labels.serviceGroup,
    shouldOpen: true,
    entries: [
      { id: 'cf-operator', element, catalogue, component: OperatorEntry, isEdited: isSelectEntryEdited },
      ...declared.map((param) => ({
        id: `cf-param-${param.name}`,
        element,
        param,
        catalogue,
        component: ParameterEntry,
        isEdited: isTextFieldEntryEdited,
      })),
    ],
  };
}

function userTaskGroup(element, catalogue) {
  return {
    id: 'certflow-user',
    label: catalogue.labels.userGroup,
    shouldOpen: true,
    entries: [
      { id: 'cf-form', element, catalogue, component: FormEntry, isEdited: isSelectEntryEdited },
      {
        id: 'cf-dueIn',
        element,
        name: 'dueIn',
        label: catalogue.labels.dueIn,
        description: catalogue.labels.dueInHelp,
        catalogue,
        component: DurationEntry,
        isEdited: isTextFieldEntryEdited,
      },
      {
        id: 'cf-followUpIn',
        element,
        name: 'followUpIn',
        label: catalogue.labels.followUpIn,
        description: catalogue.labels.followUpInHelp,
        catalogue,
        component: DurationEntry,
        isEdited: isTextFieldEntryEdited,
      },
      {
        id: 'cf-guard',
        element,
        name: 'guard',
        label: catalogue.labels.guard,
        choices: catalogue.guards || [],
        component: RegisteredEntry,
        isEdited: isSelectEntryEdited,
      },
      {
        id: 'cf-validate',
        element,
        name: 'validate',
        label: catalogue.labels.validator,
        choices: catalogue.validators || [],
        component: RegisteredEntry,
        isEdited: isSelectEntryEdited,
      },
      { id: 'cf-instructions', element, catalogue, component: InstructionsEntry, isEdited: isTextAreaEntryEdited },
      { id: 'cf-instructions-preview', element, catalogue, component: InstructionsPreviewEntry },
    ],
  };
}

function roleGroup(element, catalogue) {
  return {
    id: 'certflow-lane',
    label: catalogue.labels.laneGroup,
    shouldOpen: true,
    entries: [{ id: 'cf-role', element, catalogue, component: RoleEntry, isEdited: isSelectEntryEdited }],
  };
}

function CertflowPropertiesProvider(propertiesPanel, config) {
  this._catalogue = config;
  propertiesPanel.registerProvider(400, this);
}

CertflowPropertiesProvider.$inject = ['propertiesPanel', 'config.certflow'];

CertflowPropertiesProvider.prototype.getGroups = function (element) {
  const catalogue = this._catalogue;
  return (groups) => {
    if (!catalogue) return groups;
    if (is(element, 'bpmn:ServiceTask')) groups.splice(1, 0, serviceTaskGroup(element, catalogue));
    if (is(element, 'bpmn:UserTask')) groups.splice(1, 0, userTaskGroup(element, catalogue));
    if (is(element, 'bpmn:Lane')) groups.splice(1, 0, roleGroup(element, catalogue));
    if (catalogue.called && (is(element, 'bpmn:CallActivity') || is(element, 'bpmn:BusinessRuleTask'))) {
      groups.splice(1, 0, calledGroup(element, catalogue));
    }
    const message = messageGroup(element, catalogue); // payload / variable (certflow-message.jsx)
    if (message) groups.splice(1, 0, message);
    openEventGroups(groups);
    const rules = rulesGroup(element, catalogue);
    if (rules) groups.splice(2, 0, rules);
    return groups;
  };
};

export default {
  __init__: ['certflowPropertiesProvider'],
  certflowPropertiesProvider: ['type', CertflowPropertiesProvider],
};
