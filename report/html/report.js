(function () {
  "use strict";
  // Filter: hides matches whose text (row, ancestry tree, columns) does not
  // contain the filter text. Reads only DOM text; the report has no data in JS.
  var box = document.getElementById("filter");
  var input = document.getElementById("q");
  var status = document.getElementById("filter-status");
  var matches = Array.prototype.slice.call(document.querySelectorAll("tbody.match"));
  var hunts = Array.prototype.slice.call(document.querySelectorAll("section.hunt"));

  function apply() {
    var needle = input.value.trim().toLowerCase();
    var shown = 0;
    matches.forEach(function (m) {
      var keep = needle === "" || m.textContent.toLowerCase().indexOf(needle) !== -1;
      m.hidden = !keep;
      if (keep) { shown++; }
    });
    hunts.forEach(function (h) {
      var n = h.querySelectorAll("tbody.match:not([hidden])").length;
      h.setAttribute("data-visible", String(n));
    });
    document.body.setAttribute("data-visible", String(shown));
    status.textContent = needle === "" ? "" : shown + " of " + matches.length + " matches shown";
  }

  // "#q=text" in the address pre-fills the filter, so a filtered view can be shared.
  if (location.hash.indexOf("#q=") === 0) {
    try { input.value = decodeURIComponent(location.hash.slice(3)); } catch (e) { input.value = ""; }
  }
  input.addEventListener("input", apply);
  box.hidden = false;

  // Printing shows every collapsed section; they are closed again afterwards.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.setAttribute("data-print-opened", "");
      d.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-print-opened]").forEach(function (d) {
      d.removeAttribute("data-print-opened");
      d.open = false;
    });
  });

  apply();
  document.body.setAttribute("data-total", String(matches.length));
  document.body.setAttribute("data-js", "ready");
})();
