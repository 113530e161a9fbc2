// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("select[data-autosubmit]") && el.form) el.form.requestSubmit();
});

// A form marked data-submit-once sends once: a double click does not file two cases
// (the server also deduplicates by request key).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (form.matches("[data-submit-once]")) {
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    form.querySelectorAll("button[type=submit]").forEach((button) => button.setAttribute("aria-disabled", "true"));
  }
});

// The main menu is open in the markup (it works without script); on a phone it starts
// closed behind its "Menu" button, at a desk it stays a side column.
(() => {
  const menu = document.querySelector("[data-nav-menu]");
  if (!menu) return;
  const narrow = window.matchMedia("(max-width: 800px)");
  const apply = () => { menu.open = !narrow.matches; };
  apply();
  narrow.addEventListener("change", apply);
})();

// A table or code block that scrolls inside its own box on a narrow screen must be
// reachable by keyboard (axe: scrollable-region-focusable).
(() => {
  const mark = () => {
    document.querySelectorAll("main table, main pre").forEach((box) => {
      if (box.scrollWidth > box.clientWidth + 1) box.setAttribute("tabindex", "0");
      else if (box.getAttribute("tabindex") === "0") box.removeAttribute("tabindex");
    });
  };
  mark();
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
})();

// A form that came back with problems: move focus to its summary at the top, so that
// keyboard and screen-reader users start there (the summary links to each field).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
});
