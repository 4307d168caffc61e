/* leadflow page-view tracker for your own site:
     <script src="https://HOST/static/t.js" async></script>
   Nothing is sent until your consent banner calls leadflow.consent() (remembered on this device;
   leadflow.revoke() forgets it). Page views go to the leadflow server that served this script,
   with a first-party visitor id kept in this site's localStorage; when the visitor later fills a
   leadflow form, those views join the lead's timeline. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href).origin : "";
  var KEY_ID = "leadflow_vid", KEY_OK = "leadflow_consent";
  var store = (function () { try { localStorage.setItem("_lf", "1"); localStorage.removeItem("_lf"); return localStorage; } catch (e) { return null; } })();

  function get(key) { return store ? store.getItem(key) : null; }
  function set(key, value) { if (store) store.setItem(key, value); }

  function visitorId() {
    var id = get(KEY_ID);
    if (!id) {
      var bytes = new Uint8Array(16);
      (window.crypto || window.msCrypto).getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      set(KEY_ID, id);
    }
    return id;
  }

  function send(view) {
    var body = JSON.stringify({visitor_id: visitorId(), views: [view]});
    var url = base + "/t/collect";
    if (navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], {type: "text/plain"}))) return;
    fetch(url, {method: "POST", body: body, headers: {"Content-Type": "text/plain"}, keepalive: true, credentials: "omit"})
      .catch(function () {});
  }

  function pageView() {
    if (get(KEY_OK) !== "1") return;
    send({url: location.href.slice(0, 2000), title: (document.title || "").slice(0, 500),
          referrer: (document.referrer || "").slice(0, 2000) || null});
  }

  var api = window.leadflow = window.leadflow || {};
  api.consent = function () { set(KEY_OK, "1"); pageView(); };
  api.revoke = function () { if (store) { store.removeItem(KEY_OK); store.removeItem(KEY_ID); } };
  api.visitorId = function () { return get(KEY_OK) === "1" ? visitorId() : null; };
  api.pageView = pageView;
  pageView();
})();
