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
});
