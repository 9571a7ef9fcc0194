// The public verification page (templates/occupancy/verify.html): checks a PDF chosen or
// dropped by the visitor against the SHA-256 of the issued document. The hash is computed
// here, in the browser (Web Crypto); the file is never sent anywhere.
(function () {
  "use strict";
  const zone = document.getElementById("verify-drop");
  const input = document.getElementById("verify-file");
  const result = document.getElementById("verify-result");
  if (!zone || !input || !result || !(window.crypto && window.crypto.subtle)) {
    return; // without Web Crypto (e.g. not HTTPS) the check stays hidden
  }
  const expected = zone.dataset.expectedSha256;
  // The sentences come from the page, in its language (data-text-*); {file} and {digest}
  // are filled in here (a function, so a "$" in a file name is taken literally).
  function text(name, fallback, values) {
    return (zone.dataset[name] || fallback).replace(/\{(file|digest)\}/g, (_, key) => values[key]);
  }
  zone.hidden = false;

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function say(text, matches) {
    result.className = "verify-result " + (matches ? "verify-match" : "verify-mismatch");
    result.replaceChildren();
    const strong = document.createElement("strong");
    strong.textContent = text;
    result.appendChild(strong);
  }

  async function check(file) {
    if (!file) return;
    result.className = "verify-result";
    result.textContent = text("textChecking", "Checking {file}…", { file: file.name });
    const digest = hex(await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    if (digest === expected) {
      say(text("textMatch", "This is the document issued: {file} matches byte for byte.",
               { file: file.name }), true);
    } else {
      say(text("textMismatch", "This file is NOT the document issued: {file} differs from it " +
               "(its SHA-256 is {digest}).", { file: file.name, digest: digest }), false);
    }
  }

  input.addEventListener("change", () => check(input.files[0]));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("verify-drop-over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("verify-drop-over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("verify-drop-over");
    check(event.dataTransfer.files[0]);
  });
})();
