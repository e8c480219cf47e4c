/* certflow web pages: progressive enhancement only (every page works without JavaScript).
 * - marks <html> with class "js" (CSS then shows .jsonly and hides .nojs elements);
 * - task forms: "Add row" clones the row <template> of an array field, replacing the index
 *   placeholder (data-placeholder, e.g. __i1__) in input names, ids and labels; "Remove" takes
 *   the row out of the form (the server ignores missing indices).
 * No inline scripts anywhere: the Content-Security-Policy forbids them. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var ATTRIBUTES = ["name", "id", "for", "aria-describedby"];

  function replaceIn(root, placeholder, index) {
    var elements = root.querySelectorAll("*");
    for (var i = 0; i < elements.length; i += 1) {
      var element = elements[i];
      for (var j = 0; j < ATTRIBUTES.length; j += 1) {
        var value = element.getAttribute(ATTRIBUTES[j]);
        if (value && value.indexOf(placeholder) !== -1) {
          element.setAttribute(ATTRIBUTES[j], value.split(placeholder).join(String(index)));
        }
      }
      if (element.tagName === "TEMPLATE") {
        replaceIn(element.content, placeholder, index); // nested arrays
      }
    }
  }

  function addRow(box) {
    var template = box.querySelector(":scope > template[data-row-template]");
    var rows = box.querySelector(":scope > [data-rows]");
    if (!template || !rows) {
      return;
    }
    var index = parseInt(box.getAttribute("data-next-index") || "0", 10);
    // Never reuse an index that is still in the form.
    while (rows.querySelector('[name$="/' + index + '/__row"]')) {
      index += 1;
    }
    var fragment = template.content.cloneNode(true);
    replaceIn(fragment, box.getAttribute("data-placeholder"), index);
    var row = fragment.querySelector("[data-row]");
    rows.appendChild(fragment);
    box.setAttribute("data-next-index", String(index + 1));
    if (row) {
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) {
        first.focus();
      }
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    var add = target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      addRow(add.closest("[data-array]"));
      return;
    }
    var remove = target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      var row = remove.closest("[data-row]");
      if (row) {
        row.parentNode.removeChild(row);
      }
    }
  });
})();
