// Sortable and filterable tables: <table data-table> with <th data-sort="text|number|date">,
// and an <input data-filter-for="tableId"> that hides rows not containing the typed text.
(function () {
  "use strict";
  function cellValue(row, index, kind) {
    const cell = row.cells[index];
    const raw = (cell && (cell.dataset.value ?? cell.textContent) || "").trim();
    if (kind === "number") {
      const n = parseFloat(raw.replace(/[^0-9.\-]/g, ""));
      return isNaN(n) ? -Infinity : n;
    }
    return raw.toLowerCase();
  }
  document.querySelectorAll("table[data-table]").forEach(function (table) {
    const headers = table.tHead ? Array.from(table.tHead.rows[0].cells) : [];
    headers.forEach(function (th, index) {
      if (!th.dataset.sort) return;
      th.tabIndex = 0;
      const sort = function () {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        rows.sort(function (a, b) {
          const x = cellValue(a, index, th.dataset.sort);
          const y = cellValue(b, index, th.dataset.sort);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) { if (event.key === "Enter") sort(); });
    });
  });
  document.querySelectorAll("input[data-filter-for]").forEach(function (input) {
    const table = document.getElementById(input.dataset.filterFor);
    if (!table) return;
    input.addEventListener("input", function () {
      const needle = input.value.trim().toLowerCase();
      let shown = 0;
      Array.from(table.tBodies[0].rows).forEach(function (row) {
        const match = !needle || row.textContent.toLowerCase().includes(needle);
        row.hidden = !match;
        if (match) shown += 1;
      });
      const counter = document.querySelector('[data-count-for="' + table.id + '"]');
      if (counter) counter.textContent = shown;
    });
  });
})();
