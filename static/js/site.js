// Behaviour without inline scripts (the Content-Security-Policy allows scripts from this site only).
document.addEventListener("DOMContentLoaded", () => {
  const language = document.getElementById("language-select");
  if (language) language.addEventListener("change", () => language.form.submit());
});
