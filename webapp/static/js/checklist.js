/* The evidence checklist (webapp.evidence_checklist): keeps the running score and star level up
 * to date while the checklist is filled in. It asks the server (the task form posted with
 * action=preview: the domain scoring and the deployed star-level decision; nothing is saved) and
 * shows the score panel of its answer, so the page never computes a score of its own.
 * Without JavaScript the "Update the score" button does the same with a page load. */
(function () {
  "use strict";
  var DELAY_MS = 400;

  function refresh(box) {
    var form = box.closest("form");
    var panel = box.querySelector("[data-checklist-score]");
    if (!form || !panel) {
      return;
    }
    var data = new FormData(form);
    data.set("action", "preview");
    panel.setAttribute("aria-busy", "true");
    // getAttribute: the form's buttons are named "action", which shadows form.action.
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-checklist-score]");
        if (fresh) {
          panel.innerHTML = fresh.innerHTML;
        }
      })
      .catch(function () {
        /* the score stays as it was; submitting still checks everything */
      })
      .then(function () {
        panel.removeAttribute("aria-busy");
      });
  }

  function watch(box) {
    var timer = null;
    var form = box.closest("form");
    (form || box).addEventListener("change", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        refresh(box);
      }, DELAY_MS);
    });
  }

  var boxes = document.querySelectorAll("[data-checklist]");
  for (var i = 0; i < boxes.length; i += 1) {
    watch(boxes[i]);
  }
})();
