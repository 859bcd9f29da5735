/* Small helpers for every console page (no framework, works without it too).
 *
 * On a phone a table with a header becomes stacked rows (see console.css): each cell is
 * shown under its column's name, which this copies from the header into data-label.
 */
(function () {
  "use strict";
  document.querySelectorAll("main table").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    var names = Array.prototype.map.call(head.cells, function (th) {
      return th.textContent.trim();
    });
    table.classList.add("stack");
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column];
          if (name && !cell.hasAttribute("data-label") && cell.colSpan === 1) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });
})();
