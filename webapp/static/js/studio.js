/* The studio's modeler on a draft (webapp/templates/studio/edit.html).
 *
 * Reads everything from [data-studio] (no inline scripts: the CSP forbids them) and the JSON
 * block [data-studio-catalogue] (what the certflow properties offer). Loads the draft's BPMN into
 * the vendored modeler (global CertflowStudio, tools/vendor-bpmn-js), validates on the server
 * after each change (`certflow validate` on the draft: problems marked "cf-problem" on their
 * elements and listed; a click selects the element), lints it in the browser with bpmnlint
 * (bpmn-js-bpmnlint, rules of tools/vendor-bpmn-js/.bpmnlintrc: its findings shown on their
 * elements by the linter and listed beside the server's, data-lint-rule on the item; a click
 * selects the element), offers the token simulation (its own toggle on the canvas, top left)
 * and saves only when something changed, so
 * an untouched draft keeps its exact bytes (same hash). Sets data-studio-ready="true" (or
 * "error"), data-problems-checked="<n>" after each validation and data-dirty. The URL's
 * fragment (#element-id) selects that element, zoomed to 100 %.
 * The bpmn.io watermark stays visible: the properties panel sits beside the canvas. */
(function () {
  "use strict";

  var box = document.querySelector("[data-studio]");
  if (!box) {
    return;
  }
  var status = box.querySelector("[data-studio-status]");
  var list = box.querySelector("[data-problems]");
  var count = box.querySelector("[data-problem-count]");
  var catalogue = JSON.parse(box.querySelector("[data-studio-catalogue]").textContent);
  var editable = box.getAttribute("data-editable") === "true";
  var dirty = false;
  var marked = [];
  var checks = 0;
  var lintChecks = 0;
  var serverProblems = [];
  var lintProblems = [];
  var timer = null;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  if (!window.CertflowStudio) {
    box.setAttribute("data-studio-ready", "error");
    say(box.getAttribute("data-error-text") + " (bundle)");
    return;
  }
  var studio = window.CertflowStudio;

  // bpmn-js's texts in the page's language (webapp/studio_texts.py).
  function translate(template, replacements) {
    var text = (catalogue.texts || {})[template] || template;
    return text.replace(/{([^}]+)}/g, function (match, key) {
      return replacements && replacements[key] !== undefined ? replacements[key] : match;
    });
  }

  var modeler = new studio.Modeler({
    container: box.querySelector("[data-studio-canvas]"),
    propertiesPanel: { parent: box.querySelector("[data-studio-properties]") },
    additionalModules: [
      studio.BpmnPropertiesPanelModule,
      studio.BpmnPropertiesProviderModule,
      studio.CertflowPropertiesModule,
      studio.LintModule,
      studio.TokenSimulationModule,
      studio.SimulationTextsModule,
      { translate: ["value", translate] },
    ],
    linting: { bpmnlint: studio.lintConfig, active: true },
    moddleExtensions: { spiffworkflow: studio.spiffModdle },
    certflow: catalogue,
  });

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": box.getAttribute("data-csrf"),
      },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        data.httpStatus = response.status;
        return data;
      });
    });
  }

  function select(id) {
    var element = modeler.get("elementRegistry").get(id);
    if (element) {
      var canvas = modeler.get("canvas");
      canvas.zoom(1);
      canvas.scrollToElement(element, { top: 120, left: 160, right: 120, bottom: 120 });
      modeler.get("selection").select(element);
    }
  }

  // A link to an element (…/drafts/7#Task_AcceptanceReview) opens the draft on it.
  function selectFromHash() {
    var id = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    if (id) {
      select(id);
    }
  }
  window.addEventListener("hashchange", selectFromHash);

  function problemItem(elementId, message, registry) {
    var item = document.createElement("li");
    item.setAttribute("data-problem-element", elementId);
    if (registry.get(elementId)) {
      var link = document.createElement("button");
      link.type = "button";
      link.className = "link-button";
      link.textContent = elementId;
      link.addEventListener("click", function () {
        select(elementId);
      });
      item.appendChild(link);
      item.appendChild(document.createTextNode(": " + message));
    } else {
      item.textContent = elementId + ": " + message;
    }
    return item;
  }

  // The server's problems (marked "cf-problem") and then bpmnlint's (the linter draws its own
  // marks on the elements), in one list.
  function renderProblems() {
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    marked.forEach(function (id) {
      if (registry.get(id)) {
        canvas.removeMarker(id, "cf-problem");
      }
    });
    marked = [];
    list.textContent = "";
    serverProblems.forEach(function (problem) {
      var item;
      if (registry.get(problem.element_id)) {
        canvas.addMarker(problem.element_id, "cf-problem");
        marked.push(problem.element_id);
        item = problemItem(problem.element_id, problem.message, registry);
      } else {
        item = document.createElement("li");
        item.setAttribute("data-problem-element", problem.element_id);
        item.textContent = problem.file + ":" + problem.line + ": " + problem.element_id + ": " + problem.message;
      }
      list.appendChild(item);
    });
    lintProblems.forEach(function (issue) {
      var item = problemItem(issue.id, translate(issue.message), registry);
      item.className = "cf-lint cf-lint-" + issue.category;
      item.setAttribute("data-lint-rule", issue.rule);
      item.insertBefore(document.createTextNode(box.getAttribute("data-lint-label") + " · "), item.firstChild);
      list.appendChild(item);
    });
    var total = serverProblems.length + lintProblems.length;
    if (!total) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = box.getAttribute("data-no-problems-text");
      list.appendChild(none);
    }
    count.textContent = "(" + total + ")";
    box.setAttribute("data-problem-ids", marked.join(" "));
    box.setAttribute(
      "data-lint-ids",
      lintProblems.map(function (issue) {
        return issue.id;
      }).join(" ")
    );
  }

  function showProblems(problems) {
    serverProblems = problems;
    renderProblems();
    checks += 1;
    box.setAttribute("data-problems-checked", String(checks));
  }

  modeler.on("linting.completed", function (event) {
    lintProblems = [];
    Object.keys(event.issues || {}).sort().forEach(function (id) {
      event.issues[id].forEach(function (issue) {
        lintProblems.push({ id: issue.id || id, message: issue.message, category: issue.category, rule: issue.rule });
      });
    });
    renderProblems();
    lintChecks += 1;
    box.setAttribute("data-lint-checked", String(lintChecks));
  });

  function validate() {
    return modeler.saveXML({ format: true }).then(function (result) {
      return post(box.getAttribute("data-validate-url"), { xml: result.xml });
    }).then(function (data) {
      if (data.problems) {
        showProblems(data.problems);
      }
    });
  }

  function save() {
    if (!dirty) {
      say(box.getAttribute("data-unchanged-text"));
      return Promise.resolve();
    }
    return modeler.saveXML({ format: true }).then(function (result) {
      return post(box.getAttribute("data-save-url"), { xml: result.xml });
    }).then(function (data) {
      if (data.saved) {
        dirty = false;
        box.setAttribute("data-dirty", "false");
        say(box.getAttribute("data-saved-text"));
        showProblems(data.problems || []);
      } else {
        say(data.message || String(data.httpStatus));
      }
    });
  }

  // The selected user task's form, as the task page renders it (server-side preview), with a
  // link to edit its texts (webapp/studio_forms.py).
  var formPane = box.querySelector("[data-studio-form-pane]");
  function formOf(element) {
    var bo = element && element.businessObject;
    var values = (bo && bo.extensionElements && bo.extensionElements.values) || [];
    var found = null;
    values.forEach(function (value) {
      (value.properties || []).forEach(function (p) {
        if (p.name === "formJsonSchemaFilename" && p.value) found = p.value;
      });
    });
    return found && /^forms\/[A-Za-z0-9_-]+\.json$/.test(found) ? found.slice(6) : null;
  }
  function showFormOfSelection(event) {
    if (!formPane) return;
    var name = formOf((event.newSelection || [])[0]);
    var body = formPane.querySelector("[data-form-pane-body]");
    formPane.hidden = !name;
    formPane.setAttribute("data-form", name || "");
    if (!name) return;
    var base = formPane.getAttribute("data-form-url").replace("FORM.json", encodeURIComponent(name));
    formPane.querySelector("[data-form-pane-edit]").setAttribute("href", base);
    fetch(base + "/preview", { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        if (formPane.getAttribute("data-form") === name) body.innerHTML = html;
      });
  }

  fetch(box.getAttribute("data-source-url"), { credentials: "same-origin" })
    .then(function (response) {
      return response.text();
    })
    .then(function (xml) {
      return modeler.importXML(xml);
    })
    .then(function () {
      modeler.get("canvas").zoom("fit-viewport");
      selectFromHash();
      box.setAttribute("data-studio-ready", "true");
      modeler.on("selection.changed", showFormOfSelection);
      modeler.on("commandStack.changed", function () {
        dirty = true;
        box.setAttribute("data-dirty", "true");
        if (editable) {
          clearTimeout(timer);
          timer = setTimeout(validate, 400);
        }
      });
      if (editable) {
        validate();
      }
    })
    .catch(function (err) {
      box.setAttribute("data-studio-ready", "error");
      say(box.getAttribute("data-error-text") + " (" + err.message + ")");
    });

  var saveButton = box.querySelector("[data-studio-save]");
  if (saveButton) {
    saveButton.addEventListener("click", save);
  }
  var submitForm = box.querySelector("[data-studio-submit]");
  if (submitForm) {
    // Save pending edits before the draft goes to review.
    submitForm.addEventListener("submit", function (event) {
      if (dirty) {
        event.preventDefault();
        save().then(function () {
          submitForm.submit();
        });
      }
    });
  }
})();
