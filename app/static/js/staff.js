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

  // The queue reloads itself each minute (the same address, so the filters and page stay) to
  // show new submissions and their count in the tab's title. Not while someone is typing or
  // has changed a field, and not after "Stop refreshing" (kept for this tab, WCAG 2.2.1).
  var autoRefresh = function (refresh) {
    var seconds = parseInt(refresh.getAttribute("data-refresh"), 10) || 60;
    var toggle = refresh.querySelector("[data-refresh-toggle]");
    var status = refresh.querySelector("[data-refresh-status]");
    var key = "backaudit.queue.refresh";
    try {
      window.sessionStorage.getItem(key);
    } catch (e) {
      return; // no way to keep "Stop" across reloads: then no reloads at all
    }
    var stopped = function () {
      try {
        return window.sessionStorage.getItem(key) === "off";
      } catch (e) {
        return false;
      }
    };
    var show = function () {
      toggle.textContent = stopped() ? "Refresh every minute" : "Stop refreshing";
      status.textContent = stopped() ? "It does not refresh by itself." : "It refreshes every minute.";
    };
    var busy = function () {
      var active = document.activeElement;
      if (active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) {
        return true;
      }
      return Array.prototype.some.call(document.querySelectorAll("input, select"), function (field) {
        if (field.type === "checkbox" || field.type === "radio") {
          return field.checked !== field.defaultChecked;
        }
        if (field.tagName === "SELECT") {
          return Array.prototype.some.call(field.options, function (option) {
            return option.selected !== option.defaultSelected;
          });
        }
        return field.type !== "hidden" && field.value !== field.defaultValue;
      });
    };
    toggle.hidden = false;
    status.hidden = false;
    show();
    toggle.addEventListener("click", function () {
      try {
        window.sessionStorage.setItem(key, stopped() ? "on" : "off");
      } catch (e) {
        return;
      }
      show();
    });
    window.setInterval(function () {
      if (!stopped() && !busy()) {
        window.location.reload();
      }
    }, seconds * 1000);
  };
  var refresh = document.querySelector("[data-refresh]");
  if (refresh) {
    autoRefresh(refresh);
  }
})();
