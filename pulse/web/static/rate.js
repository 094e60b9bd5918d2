/* Pulse rating page: one tap sends one rating. No inline script, no third-party code, nothing tracked. */
(function () {
  "use strict";

  var SECRET_KEY = "pulse.device-secret";
  var ALREADY_RATED = "urn:pulse:problem:already-rated";
  var THANKS = "Thank you. Your rating has been counted.";
  var ALREADY = "You've already rated this shift. Thank you.";
  var NOT_SENT = "Your rating could not be sent. Check your connection and tap again.";

  function randomToken(bytes) {
    var buffer = new Uint8Array(bytes);
    crypto.getRandomValues(buffer);
    var binary = "";
    for (var i = 0; i < buffer.length; i++) binary += String.fromCharCode(buffer[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  var memorySecret = null;

  // The device's random secret (32 bytes, 43 characters). It stays on this device and is never shown;
  // the server only uses it to refuse a second rating for the same shift and never stores it.
  function deviceSecret() {
    try {
      var stored = window.localStorage.getItem(SECRET_KEY);
      if (stored && /^[A-Za-z0-9_-]{43}$/.test(stored)) return stored;
      stored = randomToken(32);
      window.localStorage.setItem(SECRET_KEY, stored);
      return stored;
    } catch (err) {
      // Storage can be switched off (private browsing): a secret for this visit still allows one rating.
      if (!memorySecret) memorySecret = randomToken(32);
      return memorySecret;
    }
  }

  function start() {
    var panel = document.querySelector("[data-join-code]");
    if (!panel) return;
    var buttons = Array.prototype.slice.call(panel.querySelectorAll("button[data-colour]"));
    var status = document.getElementById("status");
    var ask = document.getElementById("ask");
    var done = document.getElementById("done");
    var doneTitle = document.getElementById("done-title");
    var support = document.getElementById("support");
    // A rating whose answer never arrived keeps its key, so tapping the same colour again is counted once.
    var pending = null;

    function setBusy(busy, chosen) {
      buttons.forEach(function (button) {
        button.disabled = busy;
        button.classList.toggle("sending", busy && button === chosen);
      });
    }

    function say(message, problem) {
      status.textContent = message;
      status.classList.toggle("problem", !!problem);
    }

    function finish(title, colour) {
      doneTitle.textContent = title;
      support.hidden = colour !== "red";
      ask.hidden = true;
      done.hidden = false;
      done.focus();
    }

    function post(body) {
      return fetch(panel.getAttribute("data-endpoint"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer"
      }).then(function (response) {
        if (response.status >= 500) throw new Error("server " + response.status);
        return response;
      });
    }

    function problemOf(response) {
      return response.json().catch(function () {
        return {};
      });
    }

    function rate(colour, button) {
      if (!pending || pending.colour !== colour) {
        pending = { colour: colour, key: randomToken(16) };
      }
      var body = {
        join_code: panel.getAttribute("data-join-code"),
        colour: colour,
        device_secret: deviceSecret(),
        idempotency_key: pending.key
      };
      setBusy(true, button);
      say("Sending your rating...");
      post(body)
        .catch(function () {
          return post(body); // one retry with the same key: the server counts it once
        })
        .then(function (response) {
          if (response.status === 201) {
            pending = null;
            finish(THANKS, colour);
            return;
          }
          return problemOf(response).then(function (problem) {
            if (response.status === 409 && problem.type === ALREADY_RATED) {
              pending = null;
              finish(ALREADY, null);
              return;
            }
            setBusy(false);
            say(problem.detail || NOT_SENT, true);
          });
        })
        .catch(function () {
          setBusy(false);
          say(NOT_SENT, true);
        });
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        if (!button.disabled) rate(button.getAttribute("data-colour"), button);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
