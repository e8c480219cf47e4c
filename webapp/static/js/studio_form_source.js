// The studio's form structure editor (webapp/templates/studio/form_source.html): CodeMirror
// (vendor/form-editor, global CertflowFormEditor) replaces the textarea, which keeps the text
// for the post; every change (debounced) asks the server for the preview of the unsaved text and
// for the texts still without English, for which an English input is added.
(function () {
  "use strict";
  var form = document.querySelector("[data-form-source]");
  if (!form || !window.CertflowFormEditor) return;
  var textarea = form.querySelector("textarea[name=text]");
  var holder = form.querySelector("[data-source-editor]");
  var rows = form.querySelector("[data-english-rows]");
  var preview = document.querySelector("[data-source-preview]");
  var problem = document.querySelector("[data-preview-error]");
  var names = JSON.parse(form.querySelector("[data-source-names]").textContent);

  function englishRows(texts) {
    var typed = {};
    rows.querySelectorAll("[data-english-row]").forEach(function (row) {
      typed[row.querySelector("input[name=zh]").value] = row.querySelector("input[name=en]").value;
    });
    rows.textContent = "";
    texts.forEach(function (zh) {
      var row = document.createElement("div");
      row.className = "field";
      row.setAttribute("data-english-row", "");
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "zh"; hidden.value = zh;
      var label = document.createElement("label");
      label.textContent = zh + " — " + form.getAttribute("data-english-label");
      var input = document.createElement("input");
      input.name = "en"; input.lang = "en"; input.value = typed[zh] || "";
      label.appendChild(input);
      row.appendChild(hidden); row.appendChild(label);
      rows.appendChild(row);
    });
  }

  function refresh(text) {
    textarea.value = text;
    var body = new URLSearchParams({ text: text });
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": form.getAttribute("data-csrf") },
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      problem.hidden = result.ok;
      problem.textContent = result.ok ? "" : result.data.error;
      form.setAttribute("data-preview-state", result.ok ? "shown" : "refused");
      if (!result.ok) return;
      preview.innerHTML = result.data.html;  // the server's rendering of the task page's form
      englishRows(result.data.untranslated);
    });
  }

  textarea.hidden = true;
  holder.hidden = false;
  window.certflowFormEditor = window.CertflowFormEditor.create(holder, {
    doc: textarea.value, names: names, readOnly: textarea.readOnly, onChange: refresh,
    nonce: form.getAttribute("data-style-nonce"),
  });
  form.addEventListener("submit", function () { textarea.value = window.certflowFormEditor.getText(); });
  form.setAttribute("data-source-ready", "true");
})();
