// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // Success and info toasts fade after a while; errors stay until dismissed.
  document.querySelectorAll("#messages .toast").forEach((el) => {
    if (!el.classList.contains("text-bg-danger") && window.bootstrap) {
      window.setTimeout(() => window.bootstrap.Toast.getOrCreateInstance(el).hide(), 8000);
    }
  });
  // Guard against a double submit: disable a form's buttons once it is sent.
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", () => {
      window.setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; }), 0);
    });
  });
  // A form came back with errors: start at the summary that lists them. After a redirect to
  // a section (e.g. #findings once a deficiency is added), start there: the next Tab goes to
  // that section's first control, not back to the top of the page.
  const summary = document.getElementById("error-summary");
  const target = location.hash.length > 1 ? document.getElementById(location.hash.slice(1)) : null;
  if (summary) {
    summary.focus();
  } else if (target && target.tabIndex < 0) {
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
  }
  // "Add new …" forms: opening one moves the focus to its first field; Cancel folds it away
  // and gives the focus back to its button.
  const firstField = (root) => root.querySelector("input:not([type=hidden]), select, textarea");
  document.querySelectorAll("details.add-form").forEach((details) => {
    const opener = details.querySelector("summary");
    opener.addEventListener("click", () => {
      window.setTimeout(() => { if (details.open) firstField(details)?.focus(); }, 0);
    });
    details.querySelectorAll("[data-close-details]").forEach((cancel) => {
      cancel.hidden = false;
      cancel.addEventListener("click", () => { details.open = false; opener.focus(); });
    });
  });
  // Long texts: "123 of 2000 characters" under every textarea with a limit. The server puts
  // the limit in maxlength, a hard stop without JavaScript; here it becomes a counter instead,
  // because maxlength cuts a pasted text silently. A text too long stays as typed, the
  // counter says by how much, and the server refuses it at the field. Screen readers read the
  // count with the field (aria-describedby) and hear it while typing only near the limit
  // (its last 10 %) or over it, after a pause, never on every keystroke.
  // Its words come translated from the page (base.html's data-chars-* attributes).
  const characters = (text) => Array.from(text).length; // code points, as the server counts
  const words = document.body.dataset;
  const language = document.documentElement.lang || "en";
  // French groups digits as the page's help texts do ("5 000"); English keeps the counter's
  // plain digits ("2000"), as it always showed them.
  const number = language.startsWith("en") ? String : new Intl.NumberFormat(language).format;
  const fill = (text, values) =>
    text.replace(/\{(\w+)\}/g, (found, name) => (name in values ? number(values[name]) : found));
  const plurals = new Intl.PluralRules(language);
  const counted = (n, one, other) => fill(plurals.select(n) === "one" ? one : other, { n });
  document.querySelectorAll("textarea[maxlength]").forEach((area) => {
    if (!words.charsCount) return;
    const limit = Number(area.getAttribute("maxlength"));
    if (!limit || !area.id) return;
    area.removeAttribute("maxlength");
    area.dataset.maxlength = String(limit);
    const counter = document.createElement("div");
    counter.id = `${area.id}_counter`;
    counter.className = "form-text char-counter";
    const announcer = document.createElement("div");
    announcer.className = "visually-hidden";
    announcer.setAttribute("aria-live", "polite");
    area.after(counter, announcer);
    const described = area.getAttribute("aria-describedby");
    area.setAttribute("aria-describedby", described ? `${described} ${counter.id}` : counter.id);
    const update = () => {
      const used = characters(area.value);
      const over = used - limit;
      counter.textContent = fill(over > 0 ? words.charsOver : words.charsCount, { used, limit, over });
      counter.classList.toggle("text-danger", over > 0);
      counter.classList.toggle("fw-semibold", over > 0);
    };
    const announce = () => {
      const used = characters(area.value);
      if (used < limit * 0.9) {
        announcer.textContent = "";
      } else if (used <= limit) {
        announcer.textContent = counted(limit - used, words.charsLeftOne, words.charsLeftOther);
      } else {
        announcer.textContent = counted(used - limit, words.charsTooManyOne, words.charsTooManyOther);
      }
    };
    let pause;
    area.addEventListener("input", () => {
      update();
      window.clearTimeout(pause);
      pause = window.setTimeout(announce, 1000);
    });
    update();
  });
  // Result for this visit: the Reason only for a failing result, the occupancy permit fields
  // only for a grant. Hidden fields keep their values; nothing is lost by switching.
  document.querySelectorAll("[data-result-fields]").forEach((fields) => {
    const radios = fields.querySelectorAll("input[type=radio][name=result]");
    const update = () => {
      const chosen = Array.from(radios).find((r) => r.checked)?.value;
      fields.querySelectorAll("[data-show-for]").forEach((group) => {
        const wanted = chosen && group.dataset.showFor.split(" ").includes(chosen);
        group.hidden = !(wanted || group.querySelector(".is-invalid"));
      });
    };
    radios.forEach((radio) => radio.addEventListener("change", update));
    update();
  });
  // The occupancy checklist of the chosen template's permit type only (all without a choice).
  document.querySelectorAll("[data-template-types]").forEach((grant) => {
    const types = Object.fromEntries(
      grant.dataset.templateTypes.split(" ").filter(Boolean).map((pair) => pair.split(":"))
    );
    const select = grant.querySelector("select[name=template]");
    if (!select) return;
    const update = () => {
      const type = types[select.value];
      grant.querySelectorAll("[data-checklist-for]").forEach((fieldset) => {
        const wanted = !type || fieldset.dataset.checklistFor === type;
        fieldset.hidden = !(wanted || fieldset.querySelector(".is-invalid"));
      });
    };
    select.addEventListener("change", update);
    update();
  });
});
