// Messages (issue 12): what a thrown message carries (`spiffworkflow:messagePayload`, an
// expression on the case data) and where a caught one is stored (`spiffworkflow:messageVariable`,
// a variable name). SpiffWorkflow 3.2 reads both from the message event definition of an event
// and from the task itself for a send or receive task. The message is chosen from the diagram's
// messages by the stock "Message" group (events, receive tasks); a send task, which the stock
// panel leaves out, gets the same choice here. The server's live validation (`certflow
// validate`: engine/validation_checks.py, engine/event_checks.py) checks the payload through the
// restricted script policy and marks a bad one on the element; the variable name is checked here
// as the server checks it.
import {
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';

const PAYLOAD = 'spiffworkflow:MessagePayload';
const VARIABLE = 'spiffworkflow:MessageVariable';
const THROWS = ['bpmn:IntermediateThrowEvent', 'bpmn:EndEvent'];
const CATCHES = ['bpmn:StartEvent', 'bpmn:IntermediateCatchEvent', 'bpmn:BoundaryEvent'];
// engine/event_checks.py message_variable_problem (Python keywords are left to the server).
const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

// The moddle element SpiffWorkflow reads the extensions from, or null when it has no message.
function messageOwner(element) {
  const bo = getBusinessObject(element);
  if (isAny(element, ['bpmn:SendTask', 'bpmn:ReceiveTask'])) return bo;
  if (!isAny(element, [...THROWS, ...CATCHES])) return null;
  return (bo.eventDefinitions || []).find((d) => d.$instanceOf('bpmn:MessageEventDefinition')) || null;
}

function isThrow(element) {
  return isAny(element, [...THROWS, 'bpmn:SendTask']);
}

function valueOf(owner, type) {
  const values = (owner.extensionElements && owner.extensionElements.values) || [];
  const found = values.find((value) => value.$instanceOf(type));
  return (found && found.value) || '';
}

// Sets (or, for an empty text, removes) the owner's extension element of `type` in one command.
function setValue(injector, element, owner, type, text) {
  const factory = injector.get('bpmnFactory');
  const commands = [];
  let container = owner.extensionElements;
  if (!container) {
    if (!text) return;
    container = factory.create('bpmn:ExtensionElements', { values: [] });
    container.$parent = owner;
    commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: owner, properties: { extensionElements: container } },
    });
  }
  const values = container.values || [];
  const existing = values.find((value) => value.$instanceOf(type));
  if (existing && text) {
    commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: existing, properties: { value: text } },
    });
  } else if (existing || text) {
    let next = values.filter((value) => value !== existing);
    if (text) {
      const created = factory.create(type, { value: text });
      created.$parent = container;
      next = [...next, created];
    }
    commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: container, properties: { values: next } },
    });
  }
  if (commands.length) injector.get('commandStack').execute('properties-panel.multi-command-executor', commands);
}

function PayloadEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const owner = messageOwner(element);
  return jsx(TextAreaEntry, {
    id,
    element,
    label: catalogue.labels.messagePayload,
    description: catalogue.labels.messagePayloadHelp,
    rows: 4,
    monospace: true,
    getValue: () => valueOf(owner, PAYLOAD),
    setValue: (value) => setValue(injector, element, owner, PAYLOAD, (value || '').trim()),
    debounce,
  });
}

function VariableEntry({ element, id, catalogue }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const owner = messageOwner(element);
  return jsx(TextFieldEntry, {
    id,
    element,
    label: catalogue.labels.messageVariable,
    description: catalogue.labels.messageVariableHelp,
    getValue: () => valueOf(owner, VARIABLE),
    setValue: (value) => setValue(injector, element, owner, VARIABLE, (value || '').trim()),
    validate: (value) =>
      !value || !value.trim() || VARIABLE_NAME.test(value.trim()) ? null : catalogue.labels.messageVariableInvalid,
    debounce,
  });
}

// A send task's message, from the diagram's messages (the stock group offers it for the rest).
function definitionsOf(bo) {
  let current = bo;
  while (current && !is(current, 'bpmn:Definitions')) current = current.$parent;
  return current;
}

function SendTaskMessageEntry({ element, id, catalogue }) {
  const commandStack = useService('commandStack');
  const bo = getBusinessObject(element);
  const messages = () =>
    ((definitionsOf(bo) || {}).rootElements || []).filter((root) => is(root, 'bpmn:Message'));
  return jsx(SelectEntry, {
    id,
    element,
    label: catalogue.labels.message,
    getValue: () => (bo.messageRef && bo.messageRef.id) || '',
    setValue: (value) =>
      commandStack.execute('element.updateModdleProperties', {
        element,
        moddleElement: bo,
        properties: { messageRef: messages().find((m) => m.id === value) },
      }),
    getOptions: () => [
      { value: '', label: '—' },
      ...messages().map((m) => ({ value: m.id, label: m.name ? `${m.name} (${m.id})` : m.id })),
    ],
  });
}

export function messageGroup(element, catalogue) {
  if (!messageOwner(element)) return null;
  const entries = [];
  if (is(element, 'bpmn:SendTask')) {
    entries.push({ id: 'cf-sendMessage', element, catalogue, component: SendTaskMessageEntry, isEdited: isSelectEntryEdited });
  }
  if (isThrow(element)) {
    entries.push({ id: 'cf-messagePayload', element, catalogue, component: PayloadEntry, isEdited: isTextAreaEntryEdited });
  } else {
    entries.push({ id: 'cf-messageVariable', element, catalogue, component: VariableEntry, isEdited: isTextFieldEntryEdited });
  }
  return { id: 'certflow-message', label: catalogue.labels.messageGroup, shouldOpen: true, entries };
}

// The stock "Message" and "Timer" groups open with the element: they hold what the step waits
// for or sends, which the owner came to see (they are closed by default).
export function openEventGroups(groups) {
  groups.forEach((group) => {
    if (group.id === 'message' || group.id === 'timer') group.shouldOpen = true;
  });
}
