// Portal: keep the current section's pill visible in the horizontally scrolling nav.
(function () {
  "use strict";
  var current = document.querySelector(".portal-nav [aria-current='page']");
  if (current && current.scrollIntoView) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }
})();
