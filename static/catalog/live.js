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

// Item outlines on and off; the class sits on the container, so refreshes keep it.
(function () {
  const toggle = document.getElementById("show-masks");
  const container = document.getElementById("photos");
  if (!toggle || !container) return;
  const apply = () => container.classList.toggle("show-masks", toggle.checked);
  toggle.addEventListener("change", apply);
  apply();
})();
