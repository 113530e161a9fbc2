// Support console enhancements; every form works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  // A canned reply goes into the reply box (placeholders are filled in by the server).
  if (el.matches("select[data-canned-target]")) {
    const option = el.selectedOptions[0];
    const box = document.getElementById(el.dataset.cannedTarget);
    if (option && option.dataset.text && box) {
      box.value = box.value.trim() ? box.value.trimEnd() + "\n\n" + option.dataset.text : option.dataset.text;
      box.focus();
    }
    el.value = "";
  }
  if (el.matches("#id_bulk_action")) showBulkControl(el.value);
});

function showBulkControl(action) {
  document.querySelectorAll("[data-bulk]").forEach((control) => {
    control.hidden = control.dataset.bulk !== action;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const action = document.getElementById("id_bulk_action");
  if (action) showBulkControl(action.value);
});
