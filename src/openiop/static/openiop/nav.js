// The staff navigation folds into a "Menu" button on narrow screens (CSS decides when).
// Without this script the navigation simply stays visible, wrapping as needed.
(function () {
  "use strict";

  function setOpen(bar, button, open) {
    bar.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.querySelector(".topbar");
    var button = bar && bar.querySelector(".nav-toggle");
    if (!button) { return; }
    button.hidden = false;
    bar.classList.add("nav-collapsible");
    button.addEventListener("click", function () {
      setOpen(bar, button, button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && bar.classList.contains("nav-open")) {
        setOpen(bar, button, false);
        button.focus();
      }
    });
  });
})();
