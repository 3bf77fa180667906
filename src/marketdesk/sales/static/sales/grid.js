// The sales dashboard's unit grid: the arrow beside a unit opens and closes the units below it.
// The first opening loads them from the server (htmx: hx-get on the button, "click once");
// afterwards the rows stay on the page and are only shown or hidden here.
(() => {
  const setOpen = (button, open) => {
    button.setAttribute("aria-expanded", String(open));
    const icon = button.querySelector(".bi");
    if (icon) icon.className = open ? "bi bi-caret-down-fill" : "bi bi-caret-right-fill";
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-md-grid-toggle]");
    if (!button) return;
    const row = button.closest("tr");
    const open = button.getAttribute("aria-expanded") !== "true";
    setOpen(button, open);
    if (!button.hasAttribute("data-md-loaded")) {
      button.setAttribute("data-md-loaded", ""); // htmx fetches the children this time
      return;
    }
    const { path, row: key } = row.dataset;
    row.parentElement.querySelectorAll("tr[data-path]").forEach((other) => {
      if (other === row || !other.dataset.path.startsWith(path)) return;
      if (open) {
        if (other.dataset.parent === key) other.hidden = false; // the next level only
      } else {
        other.hidden = true; // every level below, closed again
        const inner = other.querySelector("[data-md-grid-toggle]");
        if (inner) setOpen(inner, false);
      }
    });
  });
})();

// On a narrow screen the grid scrolls sideways: start at the chosen month, not at January.
document.addEventListener("DOMContentLoaded", () => {
  const grid = document.getElementById("md-grid");
  const month = grid && grid.querySelector("thead th.table-primary");
  if (!month) return;
  const holder = grid.parentElement;
  if (holder.scrollWidth <= holder.clientWidth) return;
  holder.scrollLeft = month.offsetLeft - grid.querySelector("thead th").offsetWidth;
});
