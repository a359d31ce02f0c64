/* Optional enhancements for the patient pages. Every page works without this file. */
(function () {
  "use strict";

  // A print button, shown only when script can print (without it: the browser's own print).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });

  // "None of these" cannot be combined with other options: ticking one unticks the other kind.
  // The server checks this too and explains it when script is off.
  document.querySelectorAll("[data-exclusive-group]").forEach(function (group) {
    group.addEventListener("change", function (event) {
      var box = event.target;
      if (!box || box.type !== "checkbox" || !box.checked) {
        return;
      }
      var exclusive = box.hasAttribute("data-exclusive");
      group.querySelectorAll("input[type=checkbox]").forEach(function (other) {
        if (other !== box && (exclusive || other.hasAttribute("data-exclusive"))) {
          other.checked = false;
        }
      });
    });
  });
})();
