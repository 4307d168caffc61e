/* leadflow: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function typingIn(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // "/" focuses the lead search (or goes to the leads list when there is none); Escape leaves it.
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(document.activeElement)) {
      var box = document.querySelector("[data-search]");
      e.preventDefault();
      if (box) { box.focus(); box.select(); } else { window.location.href = "/leads"; }
    } else if (e.key === "Escape") {
      if (document.body.classList.contains("nav-open")) { toggleNav(false); }
      else if (document.activeElement && document.activeElement.matches("[data-search]")) { document.activeElement.blur(); }
    }
  });

  // Filter forms: drop empty fields so URLs stay clean; checkboxes and selects apply at once.
  document.querySelectorAll("[data-filter-form]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (el) {
        if (el.name && !el.value) { el.disabled = true; }
      });
    });
    form.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () {
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      });
    });
  });

  // Phones: the filter panel starts folded; a button opens it.
  document.querySelectorAll("[data-filters-toggle]").forEach(function (btn) {
    var form = btn.closest("form");
    if (window.matchMedia("(max-width: 560px)").matches) { form.removeAttribute("data-open"); }
    function sync() { btn.setAttribute("aria-expanded", form.hasAttribute("data-open") ? "true" : "false"); }
    btn.addEventListener("click", function () {
      if (form.hasAttribute("data-open")) { form.removeAttribute("data-open"); } else { form.setAttribute("data-open", ""); }
      sync();
    });
    sync();
  });

  // Mobile navigation.
  var toggle = document.querySelector(".nav-toggle");
  function toggleNav(open) {
    document.body.classList.toggle("nav-open", open);
    if (toggle) { toggle.setAttribute("aria-expanded", open ? "true" : "false"); }
    if (open) {
      var first = document.querySelector("#sidebar a");
      if (first) { first.focus(); }
    } else if (toggle) { toggle.focus(); }
  }
  if (toggle) {
    toggle.addEventListener("click", function () { toggleNav(!document.body.classList.contains("nav-open")); });
    document.addEventListener("click", function (e) {
      if (document.body.classList.contains("nav-open") && !e.target.closest("#sidebar, .nav-toggle")) { toggleNav(false); }
    });
  }

  // Forms that ask before doing something that cannot be undone.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });

  // Copy buttons.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var field = document.querySelector(btn.getAttribute("data-copy"));
      if (!field) { return; }
      var label = btn.querySelector("span") || btn;
      function done(ok) {
        label.textContent = ok ? "Copied" : "Press Ctrl+C";
        setTimeout(function () { label.textContent = "Copy"; }, 2000);
      }
      field.focus(); field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
      } else { done(document.execCommand("copy")); }
    });
  });
  document.querySelectorAll("[data-select-on-focus]").forEach(function (el) {
    el.addEventListener("focus", function () { el.select(); });
  });

  // Stage change: a reason becomes required for the stages that need one.
  document.querySelectorAll("[data-stage-form]").forEach(function (form) {
    var select = form.querySelector("select[name=stage]");
    var reason = form.querySelector("input[name=reason]");
    var needs = (select.getAttribute("data-needs-reason") || "").split(",");
    function sync() { reason.required = needs.indexOf(select.value) >= 0; }
    select.addEventListener("change", sync);
    sync();
  });

  // Upload: show the chosen file name, accept a dropped file.
  document.querySelectorAll(".upload-form").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".dropzone");
    var name = form.querySelector("[data-file-name]");
    function show() { if (name) { name.textContent = input.files.length ? input.files[0].name : ""; } }
    input.addEventListener("change", show);
    if (!zone) { return; }
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("is-over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
    });
  });

  // "Go back" links on error pages.
  document.querySelectorAll("[data-back]").forEach(function (a) {
    a.addEventListener("click", function (e) { if (history.length > 1) { e.preventDefault(); history.back(); } });
  });
})();
