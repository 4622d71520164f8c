// Drag and drop onto the upload form; without JavaScript the plain file input still works.
(function () {
  const zone = document.getElementById("dropzone");
  const input = zone && zone.querySelector("input[type=file]");
  const list = document.getElementById("chosen-files");
  if (!zone || !input) return;

  function size(bytes) {
    if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function showChosen() {
    list.replaceChildren(...Array.from(input.files).map((file) => {
      const li = document.createElement("li");
      li.textContent = `${file.name} (${size(file.size)})`;
      return li;
    }));
  }

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
  input.addEventListener("change", showChosen);
})();
