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
