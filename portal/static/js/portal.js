// Behaviour that the Content-Security-Policy keeps out of the HTML (no inline scripts or styles).
(function () {
  "use strict";
  // <form data-confirm="Question?">: ask before submitting a destructive action.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // <button data-action="back">: go back in history.
  document.querySelectorAll('[data-action="back"]').forEach(function (button) {
    button.addEventListener("click", function () { window.history.back(); });
  });
  // <select data-event-type-select> in a form with <fieldset data-event-type="…">: show only the
  // chosen type's fieldset; the others are disabled too, so the browser does not send them.
  document.querySelectorAll("select[data-event-type-select]").forEach(function (select) {
    const form = select.form;
    if (!form) return;
    const sync = function () {
      form.querySelectorAll("fieldset[data-event-type]").forEach(function (fieldset) {
        const chosen = fieldset.dataset.eventType === select.value;
        fieldset.hidden = !chosen;
        fieldset.disabled = !chosen;
      });
    };
    select.addEventListener("change", sync);
    sync();
  });
  // <div data-width="42.5">: width in percent (bars and charts).
  document.querySelectorAll("[data-width]").forEach(function (element) {
    element.style.width = Math.max(0, Math.min(100, parseFloat(element.dataset.width) || 0)) + "%";
  });
})();
