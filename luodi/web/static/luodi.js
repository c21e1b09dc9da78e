// luodi: small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector("[data-nav-toggle]");
  const nav = document.getElementById("mainnav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  // One navigation menu open at a time; a click elsewhere closes it.
  const menus = document.querySelectorAll("details.navmenu");
  menus.forEach((menu) => menu.addEventListener("toggle", () => {
    if (menu.open) menus.forEach((other) => { if (other !== menu) other.open = false; });
  }));
  document.addEventListener("click", (event) => {
    menus.forEach((menu) => { if (!menu.contains(event.target)) menu.open = false; });
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
// ---- Events: the agenda's print button ([data-print]); it stays hidden without this script ----
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
});
// ---- end Events ----
// ---- Docking: refuse a dossier file over the size limit before uploading it ([data-max-bytes]) ----
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      const tooLarge = Boolean(file) && file.size > Number(input.dataset.maxBytes);
      input.setCustomValidity(tooLarge ? (input.dataset.tooLarge || "Too large") : "");
      if (tooLarge) input.reportValidity();
    });
  });
});
// ---- end Docking ----
