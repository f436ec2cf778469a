// The staff navigation folds into a "Menu" button on narrow screens (CSS decides when).
// Without this script the navigation simply stays visible, wrapping as needed.
// "More" (the administrative entries) is a <details> disclosure, which opens and closes by
// keyboard and for screen readers on its own; this script only closes it on Escape (focus
// back on its summary), on a click elsewhere and when focus moves out of it.
(function () {
  "use strict";

  function setOpen(bar, button, open) {
    bar.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function setUpMore(more) {
    document.addEventListener("click", function (e) {
      if (more.open && !more.contains(e.target)) { more.open = false; }
    });
    more.addEventListener("focusout", function (e) {
      if (more.open && e.relatedTarget && !more.contains(e.relatedTarget)) {
        more.open = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.querySelector(".topbar");
    var more = bar && bar.querySelector(".nav-more details");
    if (more) { setUpMore(more); }
    var button = bar && bar.querySelector(".nav-toggle");
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") { return; }
      if (more && more.open) {
        more.open = false;
        more.querySelector("summary").focus();
      } else if (button && bar.classList.contains("nav-open")) {
        setOpen(bar, button, false);
        button.focus();
      }
    });
    if (!button) { return; }
    button.hidden = false;
    bar.classList.add("nav-collapsible");
    button.addEventListener("click", function () {
      setOpen(bar, button, button.getAttribute("aria-expanded") !== "true");
    });
  });
})();
