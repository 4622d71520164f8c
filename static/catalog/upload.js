// The photo inputs (data-max-photos): the files chosen are listed with their sizes as soon as they
// are chosen, and a choice the server would refuse (too many photos, an empty or too large file)
// is said then, and holds the form back, rather than after the upload. Drag and drop onto the new
// listing's form too; without JavaScript the plain file inputs still work and the server says it.
(function () {
  function size(bytes) {
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function problemWith(file, maxBytes) {
    if (file.size === 0) return "the file is empty";
    if (file.size > maxBytes) return `over the limit of ${Math.round(maxBytes / 1024 / 1024)} MB`;
    return "";
  }

  function item(text, isError) {
    const li = document.createElement("li");
    li.textContent = text;
    if (isError) li.className = "error";
    return li;
  }

  function watch(input) {
    const list = document.getElementById(input.dataset.chosenList);
    const maxPhotos = Number(input.dataset.maxPhotos);
    const maxBytes = Number(input.dataset.maxBytes);

    function showChosen() {
      const files = Array.from(input.files);
      const items = files.map((file) => {
        const problem = problemWith(file, maxBytes);
        return item(`${file.name} (${size(file.size)}${problem ? `: ${problem}` : ""})`, Boolean(problem));
      });
      const tooMany = files.length > maxPhotos ? input.dataset.tooMany.replace("{chosen}", files.length) : "";
      if (tooMany) items.unshift(item(tooMany, true));
      const bad = items.some((li) => li.className === "error");
      input.setCustomValidity(bad ? tooMany || "Some of the files chosen would be refused; choose others." : "");
      list.replaceChildren(...items);
    }

    input.addEventListener("change", showChosen);
    // Files chosen before this script ran (a slow page, or the browser restoring the form on going
    // back) are shown and checked too: their change event came before the listener.
    if (input.files.length) showChosen();
    return showChosen;
  }

  document.querySelectorAll("input[type=file][data-max-photos]").forEach((input) => {
    const showChosen = watch(input);
    const zone = input.closest(".dropzone");
    if (!zone) return;
    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      const files = new DataTransfer();
      Array.from(input.files).concat(Array.from(event.dataTransfer.files)).forEach((f) => files.items.add(f));
      input.files = files.files;
      showChosen();
    });
  });
})();
