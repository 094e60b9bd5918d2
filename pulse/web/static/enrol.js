/* Pulse enrolment page: redeem a personal enrolment code through the API, or take the credential that
   signing in handed to this page, and keep it in this browser as "pulse.device-credential".
   No inline script, no third-party code. Needs pulse-net.js (loaded before it).

   The hook for what comes after enrolling (fetching rating tokens), for scripts loaded after this one:
     window.PulseEnrolment.onEnrolled(function (credential, details) { ... });
   runs once the phone is enrolled on this page (at once if it already was, on this page load), with
   details = { identifier: "...", teams: [{ id, name, department }] } when known. A "pulse:enrolled" event
   with the same details is dispatched on document too. PulseEnrolment.credential() reads the stored
   credential (null if none) from any page of this origin; PulseEnrolment.status(text) shows a line of
   status in the enrolled panel (for "Ready for your next 21 shifts"). */
(function () {
  "use strict";

  var KEY = "pulse.device-credential";
  var CREDENTIAL = /^[A-Za-z0-9_-]{43,128}$/;
  var NOT_SENT = "Your phone could not reach Pulse. Check your connection and try again.";
  var SENDING = "Enrolling this phone...";
  var EMPTY = "Enter the enrolment code from your slip.";

  var listeners = [];
  var enrolledWith = null; // [credential, details] once enrolled on this page

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value && CREDENTIAL.test(value) ? value : null;
    } catch (err) {
      return null;
    }
  }

  function keep(credential) {
    try {
      window.localStorage.setItem(KEY, credential);
      return true;
    } catch (err) {
      return false; // storage switched off (some private modes): enrolment cannot outlast the page
    }
  }

  function $(id) {
    return document.getElementById(id);
  }

  function showStatus(text) {
    var line = $("token-status");
    if (line) line.textContent = text;
  }

  window.PulseEnrolment = {
    storageKey: KEY,
    credential: stored,
    status: showStatus,
    onEnrolled: function (listener) {
      listeners.push(listener);
      if (enrolledWith) listener(enrolledWith[0], enrolledWith[1]);
    }
  };

  function listTeams(teams) {
    var list = $("done-teams");
    while (list.firstChild) list.removeChild(list.firstChild);
    teams.forEach(function (team) {
      var item = document.createElement("li");
      item.textContent = team.department ? team.name + " (" + team.department + ")" : team.name;
      list.appendChild(item);
    });
  }

  function enrolled(credential, details) {
    var kept = keep(credential);
    $("start").hidden = true;
    $("already").hidden = true;
    var done = $("done");
    done.hidden = false;
    if (details.identifier) $("done-who").textContent = "Enrolled for " + details.identifier + ".";
    if (details.teams) listTeams(details.teams);
    if (!kept) {
      showStatus("This browser does not let Pulse keep your enrolment (private browsing?). Enrol again " +
        "in a normal browser window.");
    }
    done.focus();
    enrolledWith = [credential, details];
    listeners.forEach(function (listener) {
      listener(credential, details);
    });
    document.dispatchEvent(new CustomEvent("pulse:enrolled", { detail: details }));
  }

  function fieldError(message) {
    var field = $("code-field");
    var error = $("code-error");
    var input = $("code");
    if (message) {
      error.textContent = message;
      error.hidden = false;
      field.className = "field field-invalid";
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "code-hint code-error");
      input.focus();
    } else {
      error.textContent = "";
      error.hidden = true;
      field.className = "field";
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", "code-hint");
    }
  }

  function redeem(event) {
    event.preventDefault();
    var form = $("code-form");
    var code = $("code").value.trim();
    var status = $("status");
    fieldError(null);
    if (!code) {
      fieldError(EMPTY);
      return;
    }
    var button = $("enrol-button");
    button.disabled = true;
    status.textContent = SENDING;
    window.PulseNet.post(form.closest(".enrol").getAttribute("data-endpoint"), { code: code })
      .then(function (response) {
        return window.PulseNet.problemOf(response).then(function (body) {
          button.disabled = false;
          status.textContent = "";
          if (response.status === 201 && body.credential) {
            enrolled(body.credential, { identifier: body.identifier, teams: body.teams });
            return;
          }
          var detail = (body.errors && body.errors.code && body.errors.code[0]) || body.detail;
          fieldError(detail || NOT_SENT);
        });
      })
      .catch(function () {
        button.disabled = false;
        status.textContent = "";
        fieldError(NOT_SENT);
      });
  }

  function start() {
    var page = $("enrol");
    if (!page) return;
    // A code in the address (/enrol/<code>, from a QR) is already in the field; keep it out of the history.
    if (window.location.pathname !== "/enrol") window.history.replaceState(null, "", "/enrol");
    var handed = page.getAttribute("data-credential");
    if (handed) {
      // The sign-in flow's credential: kept in this browser, then gone from the page.
      var details = JSON.parse(page.getAttribute("data-enrolment") || "{}");
      page.removeAttribute("data-credential");
      enrolled(handed, details);
      return;
    }
    var form = $("code-form");
    form.addEventListener("submit", redeem);
    // A code has no line breaks: Enter in its (wrapping) field sends the form, as in a one-line field.
    $("code").addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    if (stored()) $("already").hidden = false;
  }

  // After every deferred script has run, so those loaded after this one can call onEnrolled first.
  document.addEventListener("DOMContentLoaded", start);
})();
