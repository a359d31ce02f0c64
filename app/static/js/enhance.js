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

  // Printing shows what is folded away (the scores, the answers for a doctor, the tips);
  // browsers that print closed <details> empty get them opened for the printout only.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (details) {
      details.open = true;
      opened.push(details);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) {
      details.open = false;
    });
    opened = [];
  });

  // A copy button for a link shown in a box (without script the box's text can be selected).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    if (!box) {
      return;
    }
    button.hidden = false;
    box.addEventListener("focus", function () {
      box.select();
    });
    button.addEventListener("click", function () {
      var done = function () {
        if (status) {
          // The page gives the words in its own language (data-copied); English is here.
          status.textContent = status.getAttribute("data-copied") || "Link copied. You can paste it into a message or a note.";
        }
      };
      var fallback = function () {
        box.focus();
        box.select();
        var copied = false;
        try {
          copied = document.execCommand("copy");
        } catch (error) {
          copied = false;
        }
        if (copied) {
          done();
        } else if (status) {
          status.textContent = status.getAttribute("data-copy-failed") || "Your phone did not let us copy it. The link is selected: copy it from the box.";
        }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(done, fallback);
      } else {
        fallback();
      }
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
