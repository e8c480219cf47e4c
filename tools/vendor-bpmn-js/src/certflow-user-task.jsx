// Pieces of the user-task properties: the duration check of dueIn / followUpIn and the preview of
// the instructions (rendered by the server as the task page renders them, against sample case
// data: POST catalogue.instructionsPreviewUrl {text} → {html}).
import { useEffect, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';

// SpiffWorkflow 3.2's TimerEventDefinition.parse_iso_duration, line for line, plus certflow
// validate's "not empty, not zero" (engine/validation_checks.py _check_task_durations): the
// panel refuses what the server would list as a problem.
function parseIsoDuration(expression) {
  const parsed = {};
  let exprT = false;
  let current = expression.toLowerCase().replace(/^p+|p+$/g, '').replace(/,/g, '.');
  for (const designator of ['years', 'months', 'weeks', 'days', 't', 'hours', 'minutes', 'seconds']) {
    const at = current.indexOf(designator[0]);
    if (at >= 0) {
      const duration = current.slice(0, at);
      const remainder = current.slice(at + 1);
      if (/^\d+$/.test(duration)) parsed[designator] = parseInt(duration, 10);
      else if (/^\d+$/.test(duration.replace(/\./g, '')) && !remainder) parsed[designator] = parseFloat(duration);
      if (designator in parsed || designator === 't') current = remainder;
      if (designator === 't') exprT = true;
    }
  }
  const dateSpecs = ['years', 'months', 'days'];
  const parsedT = ['hours', 'minutes', 'seconds'].some((d) => d in parsed);
  if (current.length || parsedT !== exprT || ('weeks' in parsed && dateSpecs.some((d) => parsed[d]))) {
    return null;
  }
  return parsed;
}

export function isIsoDuration(value) {
  const parsed = parseIsoDuration(value);
  return Boolean(parsed && Object.values(parsed).some((v) => v));
}

function csrfToken() {
  const box = document.querySelector('[data-studio]');
  return (box && box.getAttribute('data-csrf')) || '';
}

export function InstructionsPreview({ text, catalogue }) {
  const [html, setHtml] = useState('');
  useEffect(() => {
    if (!text || !catalogue.instructionsPreviewUrl) {
      setHtml('');
      return undefined;
    }
    let current = true;
    const timer = setTimeout(() => {
      fetch(catalogue.instructionsPreviewUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
        body: JSON.stringify({ text }),
      })
        .then((response) => (response.ok ? response.json() : { html: '' }))
        .then((data) => current && setHtml(data.html || ''))
        .catch(() => current && setHtml(''));
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [text]);
  if (!text) return null;
  return jsx('div', {
    class: 'bio-properties-panel-entry cf-instructions-preview',
    'data-cf-instructions-preview': '',
    children: [
      jsx('div', { class: 'bio-properties-panel-label', children: catalogue.labels.instructionsPreview }),
      // The server's markdown-it with raw HTML disabled and escaped placeholders (webapp/instructions.py).
      jsx('div', { class: 'cf-instructions-html', dangerouslySetInnerHTML: { __html: html } }),
    ],
  });
}
