// Review page: signing takes a few seconds, so a decision form shows a spinner and its button
// is disabled once sent (no second click, no second signature attempt).
// <form data-busy> with <button data-busy-button> holding <span data-idle-label>, and hidden
// <span data-busy-spinner> and <span data-busy-label>.
(function () {
  "use strict";
  function setBusy(button, busy) {
    button.disabled = busy;
    if (busy) button.setAttribute("aria-busy", "true");
    else button.removeAttribute("aria-busy");
    button.querySelectorAll("[data-busy-spinner], [data-busy-label]").forEach(function (part) {
      part.hidden = !busy;
    });
    button.querySelectorAll("[data-idle-label]").forEach(function (part) { part.hidden = busy; });
  }
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) return;
      const button = form.querySelector("[data-busy-button]");
      if (!button) return;
      if (button.disabled) {
        event.preventDefault();
        return;
      }
      // Disabled after this event, so the browser has already taken the form's values.
      window.setTimeout(function () { setBusy(button, true); }, 0);
    });
  });
  // Coming back with the browser's back button shows the page from its cache: enable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-busy] [data-busy-button]").forEach(function (button) {
      setBusy(button, false);
    });
  });
})();
