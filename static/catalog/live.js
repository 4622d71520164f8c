// Refresh the photo cards while any photo is queued or processing.
(function () {
  const container = document.getElementById("photos");
  if (!container) return;
  const pending = () => container.querySelector("[data-pending=true]") !== null;

  async function refresh() {
    try {
      const response = await fetch(container.dataset.url, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) container.innerHTML = await response.text();
    } finally {
      if (pending()) setTimeout(refresh, 2000);
    }
  }
  if (pending()) setTimeout(refresh, 2000);
})();

// Overlay toggles (item outlines, heatmaps). The class sits on the container, so refreshes keep it.
document.querySelectorAll("input[data-toggle-class]").forEach(function (toggle) {
  const container = document.getElementById(toggle.dataset.target);
  if (!container) return;
  const apply = () => container.classList.toggle(toggle.dataset.toggleClass, toggle.checked);
  toggle.addEventListener("change", apply);
  apply();
});

// "Select all" in the review queue.
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("input[name=items]").forEach((box) => { box.checked = all.checked; });
  });
})();
