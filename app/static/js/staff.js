/* Optional enhancements for the staff pages. Every page works without this file. */
(function () {
  "use strict";

  // A copy button beside a read-only field (a new intake link): shown only where the browser
  // lets a page write to the clipboard; without it, the field can be selected and copied.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field || !navigator.clipboard || !window.isSecureContext) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          if (status) {
            status.textContent = "Link copied.";
          }
        },
        function () {
          field.select();
          if (status) {
            status.textContent = "Could not copy: the link is selected, press Ctrl+C (or Cmd+C) to copy it.";
          }
        }
      );
    });
  });
})();
