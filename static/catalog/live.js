// Refresh the photo cards while any photo is queued or processing.
(function () {
  const container = document.getElementById("photos");
  if (!container) return;
  const pending = () => container.querySelector("[data-pending=true]") !== null;
  // A field inside (the suggested title) being edited is not replaced under the seller's fingers.
  let edited = false;
  container.addEventListener("input", () => { edited = true; });
  const editing = () => edited || (container.contains(document.activeElement) && document.activeElement.matches("input, textarea"));

  async function refresh() {
    let again = true;
    try {
      if (editing()) return;
      const response = await fetch(container.dataset.url, { headers: { "X-Requested-With": "fetch" } });
      // Logged out (a login page) or gone (404): stop; the next visit shows what is there.
      if (!response.ok || response.redirected) { again = false; return; }
      container.innerHTML = await response.text();
    } finally {
      if (again && pending()) setTimeout(refresh, 2000);
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

// Heatmaps: the item pointed at (its box on the photo or its text beside it) shows its own.
document.addEventListener("mouseover", function (event) {
  const target = event.target.closest && event.target.closest("[data-item]");
  const card = target && target.closest(".photo-card");
  if (!card) return;
  const number = target.dataset.item;
  card.querySelectorAll(".heat").forEach((heat) => heat.classList.toggle("current", heat.dataset.item === number));
  card.querySelectorAll(".item[data-item]").forEach((item) => item.classList.toggle("current", item.dataset.item === number));
});

// "Select all" in the review queue.
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("input[name=items]").forEach((box) => { box.checked = all.checked; });
  });
})();
