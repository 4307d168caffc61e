/* leadflow forms embed: <div data-leadflow-form="SLUG"></div><script src="https://HOST/static/forms.js" async></script>
   Fetches the form from the leadflow server that served this script, places it in the div, and
   submits it with fetch (JSON), showing the thank-you message or the field errors in place. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href).origin : "";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];
  var CSS = ".lf-form{font:inherit;max-width:560px}.lf-form .lf-field{margin:0 0 14px}.lf-form .lf-field>label{display:block;font-weight:600;margin:0 0 4px}" +
    ".lf-form input[type=text],.lf-form input[type=email],.lf-form input[type=tel],.lf-form select,.lf-form textarea{width:100%;box-sizing:border-box;font:inherit;padding:9px 11px;border:1px solid #c8ced6;border-radius:7px}" +
    ".lf-form .lf-check{display:flex;gap:8px;align-items:flex-start}.lf-form .lf-error{color:#b42318;margin:4px 0 0;font-size:.92em}" +
    ".lf-form .lf-alert{color:#b42318}.lf-form .lf-submit{font:inherit;font-weight:600;color:#fff;background:#2457d6;border:0;border-radius:7px;padding:10px 18px;cursor:pointer}" +
    ".lf-form .lf-check label{font-weight:400}.lf-form .lf-req{color:#b42318}.lf-form .lf-hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}.lf-form .lf-opt{font-weight:400;opacity:.7}.lf-done{padding:12px 0}";

  function addStyle() {
    if (document.getElementById("leadflow-forms-css")) return;
    var style = document.createElement("style");
    style.id = "leadflow-forms-css";
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function hidden(form, name, value) {
    if (!value || form.querySelector('input[type=hidden][name="' + name + '"]')) return;
    var input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value;
    form.appendChild(input);
  }

  function values(form) {
    var data = {};
    new FormData(form).forEach(function (value, key) {
      if (Object.prototype.hasOwnProperty.call(data, key)) {
        data[key] = [].concat(data[key], value);
      } else {
        data[key] = value;
      }
    });
    return data;
  }

  // With the page-view tracker (t.js) on this site and consent given, earlier views join the lead.
  function withVisitor(data) {
    var id = window.leadflow && window.leadflow.visitorId ? window.leadflow.visitorId() : null;
    if (id && !data.visitor_id) data.visitor_id = id;
    return data;
  }

  function showErrors(form, errors) {
    form.querySelectorAll(".lf-error[data-js]").forEach(function (el) { el.remove(); });
    var first = null;
    errors.forEach(function (err) {
      var input = form.querySelector('[name="' + err.field + '"]');
      var p = document.createElement("p");
      p.className = "lf-error"; p.setAttribute("data-js", ""); p.textContent = err.message;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.parentNode.appendChild(p);
        first = first || input;
      } else {
        form.querySelector(".lf-status").appendChild(p);
      }
    });
    if (first) first.focus();
  }

  function wire(host, form, slug) {
    var params = new URLSearchParams(location.search);
    UTM.forEach(function (k) { hidden(form, k, params.get(k)); });
    hidden(form, "page_url", location.href);
    hidden(form, "referrer", document.referrer);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector(".lf-submit");
      var status = form.querySelector(".lf-status");
      button.disabled = true;
      status.textContent = form.getAttribute("data-sending");
      fetch(base + "/f/" + encodeURIComponent(slug) + "/submit", {
        method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify(withVisitor(values(form))), credentials: "omit"
      }).then(function (response) {
        return response.json().then(function (body) { return {status: response.status, body: body}; });
      }).then(function (res) {
        button.disabled = false;
        status.textContent = "";
        if (res.status === 200 && res.body.ok) {
          if (res.body.redirect_url) { location.href = res.body.redirect_url; return; }
          var done = document.createElement("div");
          done.className = "lf-done"; done.setAttribute("role", "status"); done.textContent = res.body.message;
          if (res.body.download_url) {
            var link = document.createElement("a");
            link.href = res.body.download_url; link.className = "lf-submit"; link.setAttribute("download", "");
            link.textContent = res.body.download_name || "Download";
            var p = document.createElement("p"); p.appendChild(link); done.appendChild(p);
          }
          host.replaceChildren(done);
        } else {
          showErrors(form, res.body.errors || [{field: "", message: res.body.detail || form.getAttribute("data-error")}]);
        }
      }).catch(function () {
        button.disabled = false;
        status.textContent = form.getAttribute("data-error");
      });
    });
  }

  function mount(host) {
    var slug = host.getAttribute("data-leadflow-form");
    if (!slug || host.getAttribute("data-leadflow-mounted")) return;
    host.setAttribute("data-leadflow-mounted", "1");
    var params = new URLSearchParams(location.search);
    var query = new URLSearchParams();
    UTM.forEach(function (k) { if (params.get(k)) query.set(k, params.get(k)); });
    // A visitor the tracker knows (after consent) is not asked again for what it already told us.
    var vid = window.leadflow && window.leadflow.visitorId ? window.leadflow.visitorId() : null;
    if (vid) query.set("visitor_id", vid);
    fetch(base + "/f/" + encodeURIComponent(slug) + "/fragment?" + query.toString(), {credentials: "omit"})
      .then(function (response) {
        if (!response.ok) throw new Error("leadflow form " + slug + ": HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        addStyle();
        host.innerHTML = html;
        var form = host.querySelector("form.lf-form");
        if (form) wire(host, form, slug);
      })
      .catch(function (err) { if (window.console) console.error(err); });
  }

  function mountAll() { document.querySelectorAll("[data-leadflow-form]").forEach(mount); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll); else mountAll();
})();
