// Finder: at most N programs can be compared (the server refuses more as well). Once N
// boxes are ticked, the others are disabled with an explanation, so nobody ticks a fourth
// box and is sent back. Works for results swapped in by htmx (events are delegated).
(function () {
  "use strict";

  function update(form) {
    var max = parseInt(form.getAttribute("data-compare-max"), 10);
    if (!max) { return; }
    var boxes = form.querySelectorAll('input[type="checkbox"][name="id"]');
    var ticked = 0;
    boxes.forEach(function (box) { if (box.checked) { ticked += 1; } });
    var full = ticked >= max;
    var why = "You can compare up to " + max + " programs. Untick one to choose another.";
    boxes.forEach(function (box) {
      var off = full && !box.checked;
      box.disabled = off;
      if (off) { box.setAttribute("title", why); } else { box.removeAttribute("title"); }
      var wrap = box.closest(".field-check");
      if (wrap) {
        wrap.classList.toggle("is-disabled", off);
        // Say it at the box too (a phone has no hover for the title).
        var hint = wrap.querySelector("[data-compare-hint]");
        if (off && !hint) {
          hint = document.createElement("small");
          hint.className = "muted";
          hint.setAttribute("data-compare-hint", "");
          hint.textContent = " (" + max + " already ticked)";
          wrap.appendChild(hint);
        } else if (!off && hint) {
          hint.remove();
        }
      }
    });
    var note = form.querySelector("[data-compare-note]");
    if (note) {
      note.textContent = full ? why : (ticked ? ticked + " of " + max + " ticked." : "");
    }
  }

  function updateAll() {
    document.querySelectorAll("form[data-compare-max]").forEach(update);
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-compare-max]");
    if (form) { update(form); }
  });
  document.addEventListener("htmx:afterSwap", updateAll);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", updateAll);
  } else {
    updateAll();
  }
})();
