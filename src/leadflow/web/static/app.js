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

/* Lead capture pages: copying embed codes, the fields editor of a form. */
(function () {
  "use strict";

  // Copy the text of an element (an embed snippet in <pre><code>) to the clipboard.
  document.querySelectorAll("[data-copy-text]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var source = document.querySelector(btn.getAttribute("data-copy-text"));
      if (!source) { return; }
      var label = btn.querySelector("span") || btn;
      function done(ok) {
        label.textContent = ok ? "Copied" : "Press Ctrl+C";
        setTimeout(function () { label.textContent = "Copy"; }, 2000);
      }
      function selectSource() {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      function fallback() {
        selectSource();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent).then(function () { done(true); }, fallback);
      } else { fallback(); }
    });
  });

  // The fields editor: "Add field" clones the template row, each row can be removed, and the
  // inputs that do not apply to a row's type are hidden (without JavaScript all of them show).
  document.querySelectorAll("[data-form-editor]").forEach(function (editor) {
    var rows = editor.querySelector("[data-field-rows]");
    var template = editor.querySelector("template[data-field-template]");
    var addButton = editor.querySelector("[data-add-field]");
    if (!rows || !template) { return; }
    var standard = ["email", "first_name", "last_name", "phone", "company_name", "job_title", "country", "company_size"];
    var next = parseInt(rows.getAttribute("data-next-index"), 10) || 0;
    var texts = JSON.parse(editor.getAttribute("data-lang-texts") || "{}");
    var language = editor.querySelector("select[name=language]");
    function builtIn() { return texts[language ? language.value : "en"] || texts.en || {labels: {}}; }

    function sync(row) {
      var type = row.querySelector("[data-field-type]") || row.querySelector("input[name$='-type']");
      if (!type) { return; }
      var label = row.querySelector("input[name$='-label']");
      if (label) { label.placeholder = builtIn().labels[type.value] || ""; }
      if (type.tagName !== "SELECT") { return; }  // the fixed email row
      var key = row.querySelector("input[name$='-key']");
      var isStandard = standard.indexOf(type.value) >= 0;
      if (isStandard) {
        key.value = type.value;
        key.readOnly = true;
      } else if (key.readOnly) {
        key.readOnly = false;
        if (standard.indexOf(key.value) >= 0) { key.value = ""; }
      }
      key.placeholder = isStandard ? type.value : "from the label";
      row.querySelectorAll("[data-show-for]").forEach(function (box) {
        var input = box.querySelector("input");
        var show = box.getAttribute("data-show-for") === type.value || (input && input.value !== "");
        box.classList.toggle("is-off", !show);
      });
    }

    function wire(row) {
      var type = row.querySelector("[data-field-type]");
      if (type) { type.addEventListener("change", function () { sync(row); }); }
      var remove = row.querySelector("[data-remove-field]");
      if (remove) {
        remove.addEventListener("click", function () {
          var after = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          var focusTo = after && after.querySelector("select, input:not([type=hidden])");
          if (focusTo) { focusTo.focus(); } else if (addButton) { addButton.focus(); }
        });
      }
      sync(row);
    }

    // Blank spare rows are only for browsers without JavaScript: "Add field" replaces them.
    rows.querySelectorAll("[data-field-row][data-spare]").forEach(function (row) {
      var type = row.querySelector("[data-field-type]");
      if (type && !type.value) { row.remove(); }
    });
    rows.querySelectorAll("[data-field-row]").forEach(wire);

    if (addButton) {
      addButton.addEventListener("click", function () {
        var holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.replace(/__i__/g, String(next));
        next += 1;
        var row = holder.firstElementChild;
        rows.appendChild(row);
        wire(row);
        var type = row.querySelector("[data-field-type]");
        if (type) { type.focus(); }
      });
    }

    // The built-in texts shown as placeholders follow the form's language.
    if (language) {
      language.addEventListener("change", function () {
        var t = builtIn();
        var submit = editor.querySelector("[name=submit_label]");
        var thanks = editor.querySelector("[name=success_message]");
        if (submit) { submit.placeholder = t.submit || ""; }
        if (thanks) { thanks.placeholder = t.thanks || ""; }
        rows.querySelectorAll("[data-field-row]").forEach(sync);
      });
    }

    // After a refused save, move focus to the list of problems so it is read out.
    var problems = document.getElementById("form-errors");
    if (problems) { problems.focus(); }
  });
})();

/* Scoring model editor: checks the document as you type; saving checks it again on the server. */
(function () {
  "use strict";

  var DELAY_MS = 400;  // after the last keystroke: one request per pause, not per key

  document.querySelectorAll("[data-model-editor]").forEach(function (form) {
    var text = form.querySelector("textarea[name=text]");
    var status = form.querySelector("[data-model-status]");
    var list = status && status.querySelector("[data-problems]");
    var count = status && status.querySelector("[data-problem-count]");
    var token = form.querySelector("input[name=csrf_token]");
    var url = form.getAttribute("data-validate-url");
    if (!text || !status || !list || !url || !window.fetch) { return; }
    var timer = null;
    var latest = 0;

    function show(state, errors) {
      status.setAttribute("data-state", state);
      text.setAttribute("aria-invalid", state === "invalid" ? "true" : "false");
      list.textContent = "";
      (errors || []).forEach(function (err) {
        var item = document.createElement("li");
        var path = document.createElement("code");
        // The API names keys under "document"; the editor shows the path inside the document.
        path.textContent = (err.field || "document").replace(/^document\./, "");
        var message = document.createElement("span");
        message.textContent = " " + err.message;
        item.appendChild(path);
        item.appendChild(message);
        list.appendChild(item);
      });
      if (count && errors) {
        count.textContent = errors.length + (errors.length === 1 ? " problem" : " problems") + " to fix:";
      }
    }

    function check() {
      var mine = ++latest;
      // The last answer stays up while the next one is on its way (no flicker while typing).
      if (status.getAttribute("data-state") === "idle") { show("checking"); }
      status.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json",
                  "X-CSRF-Token": token ? token.value : ""},
        body: JSON.stringify({text: text.value})
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (result) {
        if (mine === latest) { show(result.valid ? "valid" : "invalid", result.errors); }
      }).catch(function () {
        if (mine === latest) { show("unknown"); }
      }).then(function () {
        if (mine === latest) { status.removeAttribute("aria-busy"); }
      });
    }

    text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, DELAY_MS);
    });
  });
})();

/* Dashboard: a filter applies as soon as it changes; the figures are fetched and swapped in
   without a reload, and the address follows (so the view stays a link). Without JavaScript the
   same form is submitted with its Apply button. */
(function () {
  "use strict";

  var form = document.querySelector("[data-dash-form]");
  var body = document.querySelector("[data-dash-body]");
  if (!form || !body || !window.fetch || !window.DOMParser || !window.URLSearchParams) { return; }
  var latest = 0;

  function formUrl() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value !== "") { params.append(key, value); } });
    var query = params.toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function swap(doc) {
    var fresh = doc.querySelector("[data-dash-body]");
    if (!fresh) { return false; }
    body.innerHTML = fresh.innerHTML;
    ["#dash-scope", "[data-dash-presets]"].forEach(function (sel) {
      var here = document.querySelector(sel), there = doc.querySelector(sel);
      if (here && there) { here.innerHTML = there.innerHTML; }
    });
    var link = document.querySelector("[data-leads-link]"), freshLink = doc.querySelector("[data-leads-link]");
    if (link && freshLink) { link.setAttribute("href", freshLink.getAttribute("href")); }
    // The server resolves presets and "Auto" periods: show its dates and labels in the form.
    form.querySelectorAll("input, select").forEach(function (el) {
      var twin = el.id && doc.getElementById(el.id);
      if (!twin) { return; }
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (opt, i) {
          if (twin.options[i]) { opt.textContent = twin.options[i].textContent; }
        });
        el.value = twin.value;
      } else if (el.type !== "hidden") {
        el.value = twin.value;
      }
    });
    document.title = doc.title;
    return true;
  }

  function load(url, push) {
    var mine = ++latest;
    body.setAttribute("aria-busy", "true");
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (mine !== latest) { return; }
      if (!swap(new DOMParser().parseFromString(html, "text/html"))) { window.location.href = url; return; }
      if (push) { history.pushState({dashboard: true}, "", url); }
    }).catch(function () {
      window.location.href = url;  // the page without JavaScript: same filters, full reload
    }).then(function () {
      if (mine === latest) { body.removeAttribute("aria-busy"); }
    });
  }

  // A date being typed changes with each part of it: wait for a pause before asking.
  var DATE_DELAY_MS = 600;
  var dateTimer = null;
  form.addEventListener("change", function (e) {
    clearTimeout(dateTimer);
    if (e.target.type === "date") {
      dateTimer = setTimeout(function () { load(formUrl(), true); }, DATE_DELAY_MS);
    } else {
      load(formUrl(), true);
    }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); load(formUrl(), true); });
  document.querySelector("[data-dash-presets]").addEventListener("click", function (e) {
    var a = e.target.closest("a[href]");
    if (!a || e.metaKey || e.ctrlKey || e.shiftKey || e.button) { return; }
    e.preventDefault();
    load(a.getAttribute("href"), true);
  });
  window.addEventListener("popstate", function () { load(window.location.pathname + window.location.search, false); });

  // Print: every chart's table goes on paper too; folded again afterwards.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll(".dash-details:not([open])"), function (d) {
      d.open = true;
      return true;
    });
  });
  window.addEventListener("afterprint", function () { opened.forEach(function (d) { d.open = false; }); opened = []; });
  document.querySelectorAll("[data-print]").forEach(function (btn) {
    btn.addEventListener("click", function () { window.print(); });
  });
})();
