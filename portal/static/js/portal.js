// Behaviour that the Content-Security-Policy keeps out of the HTML (no inline scripts or styles).
(function () {
  "use strict";
  // <form data-confirm="Question?">: ask before submitting a destructive action.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // <input type="checkbox" data-check-all="name">: tick or clear every visible box of that name.
  document.querySelectorAll("input[data-check-all]").forEach(function (master) {
    master.addEventListener("change", function () {
      document.querySelectorAll('input[type="checkbox"][name="' + master.dataset.checkAll + '"]')
        .forEach(function (box) { if (box.offsetParent !== null) box.checked = master.checked; });
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
  // <button data-action="reload">: load the page again (e.g. after uploads, to see the checklist).
  document.querySelectorAll('[data-action="reload"]').forEach(function (button) {
    button.addEventListener("click", function () { window.location.reload(); });
  });
  // <form data-evidence-upload>: each chosen or dropped file goes in its own request with the
  // form's fields; a progress bar and the server's answer (JSON) are shown per file. Without
  // this script the form posts all files at once and the page flashes the results.
  document.querySelectorAll("form[data-evidence-upload]").forEach(function (form) {
    const input = form.querySelector('input[type="file"]');
    const zone = form.querySelector("[data-dropzone]");
    const list = form.querySelector("[data-upload-list]");
    const done = form.querySelector("[data-upload-done]");
    const button = form.querySelector("[data-upload-button]");
    const maxBytes = parseInt(form.dataset.maxBytes, 10) || 0;
    const meta = document.querySelector('meta[name="csrf-token"]');
    const field = form.querySelector('input[name="csrf_token"]');
    const token = (meta && meta.content) || (field && field.value) || "";
    let dropped = null; // files dropped where the input cannot take them

    const size = function (bytes) {
      if (bytes >= 1048576) return (bytes / 1048576).toFixed(1).replace(/\.0$/, "") + " MB";
      if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
      return bytes + " bytes";
    };
    const element = function (tag, className, text) {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined) node.textContent = text;
      return node;
    };
    const addRow = function (file) {
      const row = element("li", "upload-item");
      const head = element("div", "d-flex gap-2 align-items-baseline");
      head.appendChild(element("span", "upload-name fw-semibold", file.name));
      head.appendChild(element("span", "small text-secondary text-nowrap", size(file.size)));
      const progress = element("div", "progress upload-progress");
      progress.setAttribute("role", "progressbar");
      progress.setAttribute("aria-label", "Upload of " + file.name);
      progress.setAttribute("aria-valuemin", "0");
      progress.setAttribute("aria-valuemax", "100");
      const bar = element("div", "progress-bar");
      progress.appendChild(bar);
      const status = element("div", "upload-status small text-secondary", "waiting");
      row.appendChild(head);
      row.appendChild(progress);
      row.appendChild(status);
      list.appendChild(row);
      const state = { row: row, progress: progress, bar: bar, status: status };
      setBar(state, 0);
      return state;
    };
    const setBar = function (state, percent) {
      const value = Math.max(0, Math.min(100, Math.round(percent)));
      state.bar.style.width = value + "%";
      state.progress.setAttribute("aria-valuenow", String(value));
    };
    const finish = function (state, kind, text) {
      const colours = { stored: "bg-success", duplicate: "bg-warning", refused: "bg-danger" };
      state.bar.classList.add(colours[kind]);
      state.row.dataset.result = kind;
      state.status.className = "upload-status small " +
        (kind === "refused" ? "text-danger" : kind === "duplicate" ? "text-warning-emphasis" : "text-success");
      state.status.textContent = text;
    };
    const answerOf = function (xhr) {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (error) { body = null; }
      if (body && body.ok) return { body: body };
      if (body && body.error) {
        const fields = Object.keys(body.error.fields || {}).map(function (name) {
          return name + ": " + [].concat(body.error.fields[name]).join(" ");
        });
        return { message: [body.error.message].concat(fields).join(" ") };
      }
      return { message: "Not stored: the portal's answer (" + xhr.status + ") was not understood. " +
        "Your session may have ended; reload the page." };
    };
    const send = function (file, state, next) {
      if (maxBytes && file.size > maxBytes) {
        finish(state, "refused", "This file is larger than the " + size(maxBytes) + " limit.");
        next();
        return;
      }
      const data = new FormData(form);
      data.delete("file");
      data.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", token);
      state.status.textContent = "uploading…";
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) setBar(state, (event.loaded / event.total) * 100);
      });
      xhr.addEventListener("load", function () {
        setBar(state, 100);
        const answer = answerOf(xhr);
        if (answer.body) {
          const body = answer.body;
          let text = "stored as #" + body.id;
          if (body.duplicate_of) text += ", duplicate of #" + body.duplicate_of;
          if (body.status === "failed") text += " (the exhibit PDF could not be made)";
          finish(state, body.duplicate_of ? "duplicate" : "stored", text);
        } else {
          finish(state, "refused", answer.message);
        }
        next();
      });
      xhr.addEventListener("error", function () {
        finish(state, "refused", "The upload was interrupted (network error). Try again.");
        next();
      });
      xhr.send(data);
    };

    if (zone) {
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("dropzone-active");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dropzone-active"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        const files = event.dataTransfer && event.dataTransfer.files;
        if (!files || !files.length) return;
        try {
          input.files = files;
          dropped = null;
        } catch (error) {
          dropped = Array.from(files);
        }
      });
    }
    input.addEventListener("change", function () { dropped = null; });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const files = dropped || Array.from(input.files || []);
      list.replaceChildren();
      done.hidden = true;
      if (!files.length) {
        list.appendChild(element("li", "text-danger small", "Choose or drop at least one file."));
        return;
      }
      button.disabled = true;
      const states = files.map(addRow);
      let index = 0;
      const next = function () {
        if (index < files.length) {
          const current = index;
          index += 1;
          send(files[current], states[current], next);
          return;
        }
        button.disabled = false;
        input.value = "";
        dropped = null;
        done.hidden = false;
      };
      next();
    });
  });
  // <div data-width="42.5">: width in percent (bars and charts).
  document.querySelectorAll("[data-width]").forEach(function (element) {
    element.style.width = Math.max(0, Math.min(100, parseFloat(element.dataset.width) || 0)) + "%";
  });
})();
