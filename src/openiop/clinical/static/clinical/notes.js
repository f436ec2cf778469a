// Note drafts: keep what was typed (and chosen) in this tab (sessionStorage, cleared when the tab closes) until the server confirms a save, so a
// session that expired mid-sentence loses nothing. The server-side draft (autosaved by htmx
// with a version) stays the record; this copy only covers the gap since the last save.
(function () {
  "use strict";
  var form = document.getElementById("note-form");
  if (!form) { return; }
  var key = "openiop-note-" + form.dataset.noteCode;

  function snapshot() {
    var data = {};
    form.querySelectorAll("textarea, select").forEach(function (t) { data[t.name] = t.value; });
    return data;
  }
  function differsFromPage(saved) {
    return Object.keys(saved).some(function (name) {
      var field = form.querySelector('[name="' + name + '"]');
      return field && field.value !== saved[name];
    });
  }

  form.addEventListener("input", function () {
    try { sessionStorage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* quota */ }
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.elt !== form && !form.contains(e.detail.elt)) { return; }
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (status === 200 && !e.detail.xhr.getResponseHeader("HX-Retarget")) {
      try { sessionStorage.removeItem(key); } catch (err) { /* ignore */ }
    }
  });
  // Every save carries this page's editor id (a hidden field) and a save id of its own: when
  // an answer is lost the next save still names the old version, and the server, seeing
  // that only this page wrote since, takes it as the continuation it is (no false conflict).
  function newSaveId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  form.addEventListener("htmx:configRequest", function (e) {
    e.detail.parameters.save_id = newSaveId();
  });
  // No answer at all (network down, node restarting): say so and try again shortly.
  var retry = null;
  function noAnswer(e) {
    if (e.detail.elt !== form) { return; }
    var status = document.getElementById("autosave-status");
    if (status) {
      status.innerHTML = '<span class="error" role="alert">Not saved yet: no answer from ' +
        "the server. Trying again…</span>";
    }
    window.clearTimeout(retry);
    retry = window.setTimeout(function () { htmx.trigger(form, "change"); }, 5000);
  }
  form.addEventListener("htmx:sendError", noAnswer);
  form.addEventListener("htmx:timeout", noAnswer);
  form.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr && e.detail.xhr.status >= 500) { noAnswer(e); }
  });

  // Show the 401 "session expired" message instead of dropping it.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr && e.detail.xhr.status === 401) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // Signing submits the text on the page with the version it shows. If an autosave is in
  // flight, wait for it (it changes the version), then sign: no self-inflicted conflict.
  var signButton = document.getElementById("sign-button");
  if (signButton) {
    signButton.addEventListener("click", function (e) {
      if (!form.classList.contains("htmx-request")) { return; }
      e.preventDefault();
      signButton.disabled = true;
      form.addEventListener("htmx:afterRequest", function retry() {
        form.removeEventListener("htmx:afterRequest", retry);
        signButton.disabled = false;
        window.setTimeout(function () { signButton.click(); }, 50);
      });
    });
  }

  var banner = document.getElementById("restore-banner");
  var kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { kept = null; }
  if (kept && banner && differsFromPage(kept)) {
    banner.hidden = false;
    document.getElementById("restore-local").addEventListener("click", function () {
      Object.keys(kept).forEach(function (name) {
        var field = form.querySelector('[name="' + name + '"]');
        if (field) { field.value = kept[name]; }
      });
      banner.hidden = true;
      form.dispatchEvent(new Event("change", { bubbles: true }));
    });
    document.getElementById("discard-local").addEventListener("click", function () {
      sessionStorage.removeItem(key);
      banner.hidden = true;
    });
  } else if (kept) {
    sessionStorage.removeItem(key);
  }
})();
