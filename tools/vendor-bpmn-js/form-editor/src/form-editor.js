// The studio's form editor (issue 12, "Forms"): CodeMirror 6 on a form's JSON Schema with JSON
// syntax errors shown inline (gutter + underline), completion of the keywords certflow's forms use
// and of the registered x-checks / x-options names the page passes in, and a debounced onChange
// the page uses for the live server preview (webapp/templates/studio/form_source.html).
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching, foldGutter, indentOnInput, syntaxHighlighting, defaultHighlightStyle, syntaxTree,
} from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { json, jsonParseLinter } from "@codemirror/lang-json";

const KEYS = [
  "type", "title", "description", "properties", "required", "enum", "oneOf", "const", "items",
  "default", "format", "minimum", "maximum", "minLength", "maxLength", "pattern", "minItems",
  "maxItems", "x-checks", "x-options",
];
const TYPES = ["string", "number", "integer", "boolean", "array", "object"];

// The key a string value belongs to ("x-checks" for the items of its array too).
function ownerKey(state, node) {
  for (let n = node.parent; n; n = n.parent) {
    if (n.name === "Property") {
      const name = n.getChild("PropertyName");
      return name ? state.sliceDoc(name.from + 1, name.to - 1) : null;
    }
  }
  return null;
}

function completions(names) {
  return (context) => {
    const node = syntaxTree(context.state).resolveInner(context.pos, -1);
    if (node.name !== "String" && node.name !== "PropertyName") return null;
    let options;
    if (node.name === "PropertyName") options = KEYS;
    else {
      const key = ownerKey(context.state, node);
      if (key === "type") options = TYPES;
      else if (key === "x-checks") options = names.checks || [];
      else if (key === "x-options") options = names.options || [];
      else return null;
    }
    return {
      from: node.from + 1,
      to: Math.max(node.from + 1, node.to - 1),
      options: options.map((label) => ({ label, type: "keyword" })),
      validFor: /^[\w-]*$/,
    };
  };
}

// `nonce`: the page's style-src nonce (the app's CSP allows no inline style otherwise), for the
// <style> element CodeMirror mounts its theme in.
export function create(parent, { doc, names = {}, readOnly = false, onChange, delay = 400, nonce = "" }) {
  let timer = null;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), foldGutter(), history(), drawSelection(),
        indentOnInput(), bracketMatching(), closeBrackets(), highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        json(), linter(jsonParseLinter(), { delay: 200 }), lintGutter(),
        autocompletion({ override: [completions(names)] }),
        keymap.of([
          ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap,
          ...lintKeymap, indentWithTab,
        ]),
        EditorState.readOnly.of(readOnly),
        EditorView.cspNonce.of(nonce),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged || !onChange) return;
          clearTimeout(timer);
          timer = setTimeout(() => onChange(view.state.doc.toString()), delay);
        }),
      ],
    }),
  });
  return {
    view,
    getText: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
  };
}
