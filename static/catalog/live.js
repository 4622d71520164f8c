// Refresh the photo cards while any photo is queued or processing.
(function () {
  const container = document.getElementById("photos");
  if (!container) return;
  const pending = () => container.querySelector("[data-pending=true]") !== null;
  // Nothing inside is replaced under the seller's hands: not while anything in it has the focus (a
  // field being edited, a button about to be pressed: replaced, it would drop the focus to the page's
  // top), nor once a field in it was typed into (the suggested title).
  let edited = false;
  container.addEventListener("input", () => { edited = true; });
  const busy = () => edited || container.contains(document.activeElement);
  // Said once, politely, by a live region outside the redrawn cards (the cards' own text, redrawn
  // every time, would be read again or not at all).
  const status = document.getElementById("photos-status");
  let announced = false;

  // The cards as the server would write them: each form's CSRF token differs on every response,
  // and the page's own serialization differs from the server's in whitespace and attribute quoting.
  function comparable(html) {
    const body = new DOMParser().parseFromString(html, "text/html").body;
    body.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((token) => token.removeAttribute("value"));
    return body.innerHTML.trim();
  }
  // What the server last sent, not the cards as they are now: pointing at an item moves its
  // heatmap's "current" mark, which would read as a change and redraw the cards under the pointer.
  let shown = comparable(container.innerHTML);

  function announceSettled(html) {
    if (announced || !status) return;
    const photos = new DOMParser().parseFromString(html, "text/html").querySelector("[data-pending]");
    if (!photos || photos.dataset.pending !== "false") return;
    status.textContent = photos.dataset.settled;
    announced = true;
  }

  async function refresh() {
    let again = true;
    try {
      if (busy() && announced) return;  // nothing more to say, and nothing to redraw yet
      const response = await fetch(container.dataset.url, { headers: { "X-Requested-With": "fetch" } });
      // Logged out (a login page) or gone (404): stop; the next visit shows what is there.
      if (!response.ok || response.redirected) { again = false; return; }
      const html = await response.text();
      announceSettled(html);
      // Unchanged: left alone (a redraw would restart the images and lose the reader's place).
      const sent = comparable(html);
      if (busy() || sent === shown) return;
      container.innerHTML = html;
      shown = sent;
    } finally {
      // While the cards are kept as they were, they still say pending: asked again until redrawn.
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

// Heatmaps: the item pointed at (its box on the photo or its text beside it), or focused from the
// keyboard, shows its own.
function showItemsHeatmap(event) {
  const target = event.target.closest && event.target.closest("[data-item]");
  const card = target && target.closest(".photo-card");
  if (!card) return;
  const number = target.dataset.item;
  card.querySelectorAll(".heat").forEach((heat) => heat.classList.toggle("current", heat.dataset.item === number));
  card.querySelectorAll(".item[data-item]").forEach((item) => item.classList.toggle("current", item.dataset.item === number));
}
document.addEventListener("mouseover", showItemsHeatmap);
document.addEventListener("focusin", showItemsHeatmap);

// The page's fragment target, made focusable for it (tabindex -1: the messages a refused review
// action comes back to, the card an action moves on to), takes the focus, so that a screen reader
// reads on from there rather than from the page's top. A "Back to the item" link whose card is no
// longer on the page (decided meanwhile, filtered out) is taken away.
(function () {
  function focusTarget() {
    const target = location.hash.length > 1 && document.getElementById(location.hash.slice(1));
    if (target && target.getAttribute("tabindex") === "-1") target.focus();
  }
  document.querySelectorAll("a[data-back-to-item]").forEach((link) => {
    if (!document.getElementById(link.hash.slice(1))) link.remove();
  });
  focusTarget();
  window.addEventListener("hashchange", focusTarget);
})();

// "Select all" in the review queue.
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("input[name=items]").forEach((box) => { box.checked = all.checked; });
  });
})();
