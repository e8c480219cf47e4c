// The token simulation's texts in the page's language (issue 12). bpmn-js-token-simulation 0.39
// writes English into its DOM without diagram-js's `translate`, so its toggle, palette, log and
// notifications are relabelled as they appear: every text and title/aria-label equal to one of
// its English texts goes through `translate` (the catalogue of webapp/studio_texts.py,
// SIMULATION_TEXTS), as do its log lines "<scope> started/finished/canceled".
const TEXTS = new Set([
  'Token Simulation',
  'Simulation Log',
  'No Entries',
  'Toggle Simulation Log',
  'Close',
  'Reset Simulation',
  'Play/Pause Simulation',
  'Pause Simulation',
  'Play Simulation',
  'Set animation speed = Slow',
  'Set animation speed = Normal',
  'Set animation speed = Fast',
  'Set Sequence Flow',
  'Add pause point',
  'Remove pause point',
  'Trigger Event',
  'Finished',
  'Found unsupported elements',
  'Not supported',
  'Process',
  'SubProcess',
  'Service Task',
  'User Task',
  'Call Activity',
  'Script Task',
  'Business Rule Task',
  'Manual Task',
  'Receive Task',
  'Send Task',
  'Task',
  'Exclusive Gateway',
  'Parallel Gateway',
  'Inclusive Gateway',
  'Start Event',
  'Intermediate Event',
  'Boundary Event',
  'End Event',
]);
const SCOPE_LINE = /^(.+) (started|finished|canceled)$/;
const ATTRIBUTES = ['title', 'aria-label'];
const SIMULATION = [
  '.bts-toggle-mode', '.bts-palette', '.bts-log', '.bts-notifications', '.bts-context-pad',
  '.bts-set-animation-speed', '.bts-scopes', '.bts-element-notification',
].join(', ');

export function simulationText(text, translate) {
  const trimmed = text.trim();
  if (TEXTS.has(trimmed)) return text.replace(trimmed, translate(trimmed));
  const line = SCOPE_LINE.exec(trimmed);
  if (line) {
    const scope = TEXTS.has(line[1]) ? translate(line[1]) : line[1];
    return text.replace(trimmed, translate(`{scope} ${line[2]}`, { scope }));
  }
  return text;
}

function relabel(root, translate) {
  const nodes = root.nodeType === 3 ? [root] : [];
  if (root.nodeType === 1) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) nodes.push(walker.currentNode);
    [root, ...root.querySelectorAll('[title], [aria-label]')].forEach((el) => {
      if (!el.closest(SIMULATION)) return; // bpmn-js's own titles go through `translate` already
      ATTRIBUTES.forEach((name) => {
        const value = el.getAttribute(name);
        if (value) {
          const text = simulationText(value, translate);
          if (text !== value) el.setAttribute(name, text);
        }
      });
    });
  }
  nodes.forEach((node) => {
    const parent = node.parentElement;
    if (!parent || !parent.closest(SIMULATION)) return; // the diagram's own labels stay as drawn
    const text = simulationText(node.nodeValue, translate);
    if (text !== node.nodeValue) node.nodeValue = text;
  });
}

function SimulationTexts(canvas, translate, eventBus) {
  const container = canvas.getContainer();
  const observer = new MutationObserver((records) => {
    records.forEach((record) => {
      if (record.type === 'characterData') relabel(record.target, translate);
      else if (record.type === 'attributes') relabel(record.target, translate);
      else record.addedNodes.forEach((node) => relabel(node, translate));
    });
  });
  observer.observe(container, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ATTRIBUTES,
  });
  container.querySelectorAll(SIMULATION).forEach((el) => relabel(el, translate));
  eventBus.on('diagram.destroy', () => observer.disconnect());
}

SimulationTexts.$inject = ['canvas', 'translate', 'eventBus'];

export default {
  __init__: ['certflowSimulationTexts'],
  certflowSimulationTexts: ['type', SimulationTexts],
};
