/* The review page of a draft (webapp/templates/studio/review.html): draws the draft with the
 * vendored viewer (CertflowStudio.NavigatedViewer) and colours what the server's diff found
 * (data-diff: added "cf-added", changed "cf-changed"). Sets data-diff-ready="true" and
 * data-diff-marked="<ids>" when done. Removed elements are listed in the table. */
(function () {
  "use strict";

  var box = document.querySelector("[data-studio-diff]");
  if (!box || !window.CertflowStudio) {
    return;
  }
  var diff = JSON.parse(box.getAttribute("data-diff"));
  var viewer = new window.CertflowStudio.NavigatedViewer({
    container: box.querySelector("[data-diff-canvas]"),
    moddleExtensions: { spiffworkflow: window.CertflowStudio.spiffModdle },
  });
  fetch(box.getAttribute("data-draft-url"), { credentials: "same-origin" })
    .then(function (response) {
      return response.text();
    })
    .then(function (xml) {
      return viewer.importXML(xml);
    })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var marked = [];
      [["added", "cf-added"], ["changed", "cf-changed"]].forEach(function (pair) {
        diff[pair[0]].forEach(function (change) {
          if (registry.get(change.id)) {
            canvas.addMarker(change.id, pair[1]);
            marked.push(change.id);
          }
        });
      });
      canvas.zoom("fit-viewport");
      box.setAttribute("data-diff-marked", marked.join(" "));
      box.setAttribute("data-diff-ready", "true");
    })
    .catch(function () {
      box.setAttribute("data-diff-ready", "error");
    });
})();
