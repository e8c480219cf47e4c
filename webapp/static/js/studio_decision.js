/* The studio's decision table editor (webapp/templates/studio/decision.html, issue 12 "DMN").
 *
 * Opens the draft's DMN file in dmn-js (vendored global DmnJS, tools/vendor-bpmn-js) on its
 * decision table, and saves the edited XML into the draft. The server checks the table as
 * `certflow validate` does (the engine's DMN parser): its problems come back with a 422 and are
 * listed; nothing is saved then. Sets data-decision-ready="true" (or "error") and
 * data-dirty; reads everything from [data-decision-editor] (no inline scripts: the CSP). */
(function () {
  "use strict";

  var box = document.querySelector("[data-decision-editor]");
  if (!box) {
    return;
  }
  var status = box.querySelector("[data-decision-status]");
  var problems = box.querySelector("[data-decision-problems]");
  var dirty = false;

  function say(text) {
    status.textContent = text;
  }

  if (!window.DmnJS) {
    box.setAttribute("data-decision-ready", "error");
    say(box.getAttribute("data-error-text") + " (bundle)");
    return;
  }
  // dmn-js's texts in the page's language (webapp/studio_texts.py DMN_TEXTS).
  var texts = JSON.parse(box.querySelector("[data-decision-texts]").textContent);
  function translate(template, replacements) {
    var text = texts[template] || template;
    return text.replace(/{([^}]+)}/g, function (match, key) {
      return replacements && replacements[key] !== undefined ? replacements[key] : match;
    });
  }
  // dmn-js hands each view only its own additionalModules (not the common ones).
  var translated = { additionalModules: [{ translate: ["value", translate] }] };
  var modeler = new window.DmnJS({
    container: box.querySelector("[data-decision-canvas]"),
    drd: translated,
    decisionTable: translated,
    literalExpression: translated,
  });

  function showProblems(list) {
    problems.textContent = "";
    (list || []).forEach(function (problem) {
      var item = document.createElement("li");
      item.setAttribute("data-problem-element", problem.element_id || "");
      item.textContent = (problem.element_id ? problem.element_id + ": " : "") + problem.message;
      problems.appendChild(item);
    });
  }

  function openTable() {
    var table = modeler.getViews().filter(function (view) {
      return view.type === "decisionTable";
    })[0];
    return table ? modeler.open(table) : Promise.resolve();
  }

  function save() {
    if (!dirty) {
      say(box.getAttribute("data-unchanged-text"));
      return Promise.resolve();
    }
    return modeler.saveXML({ format: true }).then(function (result) {
      return fetch(box.getAttribute("data-save-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": box.getAttribute("data-csrf"),
        },
        body: JSON.stringify({ xml: result.xml }),
      });
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      showProblems(data.problems);
      if (data.saved || data.unchanged) {
        dirty = false;
        box.setAttribute("data-dirty", "false");
        say(box.getAttribute(data.saved ? "data-saved-text" : "data-unchanged-text"));
      } else {
        say(data.message || "");
      }
      box.setAttribute("data-decision-saved", data.saved ? "true" : "false");
    });
  }

  fetch(box.getAttribute("data-source-url"), { credentials: "same-origin" })
    .then(function (response) {
      return response.text();
    })
    .then(function (xml) {
      return modeler.importXML(xml);
    })
    .then(openTable)
    .then(function () {
      var viewer = modeler.getActiveViewer();
      viewer.on("elements.changed", function () {
        dirty = true;
        box.setAttribute("data-dirty", "true");
      });
      box.setAttribute("data-decision-ready", "true");
    })
    .catch(function (err) {
      box.setAttribute("data-decision-ready", "error");
      say(box.getAttribute("data-error-text") + " (" + err.message + ")");
    });

  box.querySelector("[data-decision-save]").addEventListener("click", save);
})();
