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

// A form that came back with problems: move focus to its summary at the top, so that
// keyboard and screen-reader users start there (the summary links to each field).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
});
