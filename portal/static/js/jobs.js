// The job page: poll GET /api/v1/jobs/<id> (the session cookie is accepted there for GET) and
// move the progress bar until the job is done or failed.
(function () {
  "use strict";
  const card = document.querySelector("[data-job-url]");
  if (!card) return;
  const bar = card.querySelector("[data-job-bar]");
  const meter = bar.parentElement;
  const badge = card.querySelector("[data-job-badge]");
  const count = card.querySelector("[data-job-count]");
  const done = card.querySelector("[data-job-done]");
  const waiting = card.querySelector("[data-job-waiting]");
  const stalled = card.querySelector("[data-job-stalled]");
  const summary = card.querySelector("[data-job-summary]");
  const link = card.querySelector("[data-job-link]");
  const failure = card.querySelector("[data-job-error]");
  const errors = card.querySelector("[data-job-errors]");
  const rows = card.querySelector("[data-job-error-rows]");
  const colours = { queued: "secondary", running: "info", done: "success", failed: "danger" };

  function show(job) {
    const percent = Math.round((job.progress || 0) * 100);
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    meter.setAttribute("aria-valuenow", String(percent));
    badge.textContent = job.status;
    badge.className = "badge me-2 text-bg-" + (colours[job.status] || "secondary");
    if (job.total) count.textContent = job.done + " / " + job.total;
    const finished = job.status === "done" || job.status === "failed";
    waiting.hidden = job.status !== "queued";
    stalled.hidden = !job.stalled;
    bar.classList.toggle("progress-bar-animated", !finished);
    bar.classList.toggle("bg-danger", job.status === "failed");
    if (job.status === "done") {
      done.hidden = false;
      if (job.result) summary.textContent = job.result.summary || "";
      // Only a path inside the portal is followed (the job's result names it).
      if (job.result && job.result.link && /^\/[^/\\]/.test(job.result.link.href)) {
        link.href = job.result.link.href;
        link.textContent = job.result.link.label;
        link.hidden = false;
      }
    }
    if (job.error) { failure.hidden = false; failure.textContent = job.error; }
    if (job.result && job.result.errors && job.result.errors.length) {
      errors.hidden = false;
      rows.replaceChildren();
      job.result.errors.forEach(function (error) {
        const row = rows.insertRow();
        row.insertCell().textContent = error.reference || ("#" + error.case);
        row.insertCell().textContent = error.message;
      });
    }
    return finished;
  }

  function poll() {
    fetch(card.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (job) { if (!show(job)) window.setTimeout(poll, 1000); })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  const initial = parseFloat(bar.dataset.progress || "0");
  show({ progress: initial, status: card.dataset.jobStatus, done: 0, total: 0 });
  if (card.dataset.jobStatus === "queued" || card.dataset.jobStatus === "running") poll();
})();
