/* Pulse rating page: one tap sends one rating. No inline script, no third-party code, nothing tracked.
   A rating tapped while offline waits in this browser's storage and is sent when the phone is back online
   (rate-queue.js). In open rating the phone sends its device secret; in verified rating it spends the open
   shift's anonymous token instead, which verified-rate.js (window.PulseVerified) keeps and hands over.
   Needs pulse-net.js, rate-store.js and rate-queue.js, loaded before it. */
(function () {
  "use strict";

  var net = window.PulseNet; // pulse-net.js: randomToken, postWithRetry, problemOf
  var store = window.PulseRateStore; // rate-store.js
  var randomToken = net.randomToken;
  var postWithRetry = net.postWithRetry;
  var problemOf = net.problemOf;
  var shiftWords = store.shiftWords;

  var PROBLEM = "urn:pulse:problem:";
  var ALREADY_RATED = PROBLEM + "already-rated";
  var WRONG_SLOT = PROBLEM + "wrong-slot";
  var REASONS_ALREADY_ADDED = PROBLEM + "reasons-already-added";
  var THANKS = "Thank you. Your rating has been counted.";
  var SAVED_TITLE = "Thank you for rating your shift.";
  var ALREADY = "You've already rated this shift. Thank you.";
  var NOT_SENT = "Your rating could not be sent. Please tap again in a moment.";
  var QUEUED = "You're offline. Your rating is saved on this phone and will be sent when you're back online.";
  var WAITING = "A rating is saved on this phone. It will be sent when you're back online.";
  var NO_VERIFIED = "This browser cannot rate for a verified team. Please update it, or use another browser.";
  var REASONS_ADDED = "Thanks, your reasons have been added.";
  var REASONS_NONE = "Choose at least one reason, or choose Skip.";
  var REASONS_TOO_MANY = "Choose up to 10 reasons.";
  var REASONS_NOT_SENT = "Your reasons could not be sent. Try again, or choose Skip.";

  function withFields(body, fields) {
    var merged = {};
    Object.keys(body).forEach(function (name) {
      merged[name] = body[name];
    });
    Object.keys(fields).forEach(function (name) {
      merged[name] = fields[name];
    });
    return merged;
  }

  function registerServiceWorker() {
    // The worker only keeps this page and its files for opening offline; rating never depends on it.
    try {
      if (!("serviceWorker" in navigator)) return;
      navigator.serviceWorker.register("/r/sw.js", { scope: "/r/" }).catch(function () {});
    } catch (err) {
      // no worker: the page still works online
    }
  }

  function start() {
    var panel = document.querySelector("[data-join-code]");
    if (!panel) return;
    var joinCode = panel.getAttribute("data-join-code");
    var endpoint = panel.getAttribute("data-endpoint");
    var reasonsEndpoint = panel.getAttribute("data-reasons-endpoint");
    // Verified rating: the phone spends a token per shift (verified-rate.js), never a device secret.
    var verified = panel.getAttribute("data-mode") === "verified";
    var tokens = verified ? window.PulseVerified : null;
    var buttons = Array.prototype.slice.call(panel.querySelectorAll("button[data-colour]"));
    var status = document.getElementById("status");
    var ask = document.getElementById("ask");
    var done = document.getElementById("done");
    var doneTitle = document.getElementById("done-title");
    var doneNote = document.getElementById("done-note");
    var doneShift = document.getElementById("done-shift");
    // The shift a tap now would count for, as the server sent the page (absent when no shift is open).
    var shiftNow = {
      date: panel.getAttribute("data-shift-date"),
      band: panel.getAttribute("data-shift-band"),
      until: parseInt(panel.getAttribute("data-shift-until"), 10)
    };
    var support = document.getElementById("support");
    var reasonsForm = document.getElementById("reasons");
    var reasonsStatus = document.getElementById("reasons-status");
    // A rating whose answer never arrived keeps its key (and its token), so tapping the same colour again
    // is counted once.
    var pending = null;
    // The rating counted on this page: its reasons are sent with the same idempotency key (and token).
    var counted = null;
    var queue = window.PulseRateQueue.create({ endpoint: endpoint, tell: tell, retarget: retarget });

    function setBusy(busy, chosen) {
      buttons.forEach(function (button) {
        button.disabled = busy;
        button.classList.toggle("sending", busy && button === chosen);
      });
    }

    function say(element, message, problem) {
      element.textContent = message;
      element.classList.toggle("problem", !!problem);
    }

    function finish(title, colour, note, shift) {
      doneTitle.textContent = title;
      doneShift.textContent = shift || "";
      say(doneNote, note || "");
      support.hidden = colour !== "red";
      ask.hidden = true;
      done.hidden = false;
      done.focus();
    }

    // News about a saved rating goes where the person is looking: under the thank-you, or under the buttons.
    function tell(message, problem) {
      say(done.hidden ? status : doneNote, message, problem);
    }

    // Remember the shift the server counted, if it is the one this page was sent for (so its end is known).
    function remember(date, band) {
      if (date === shiftNow.date && band === shiftNow.band && isFinite(shiftNow.until)) {
        store.writeRated({ shift_date: date, band: band, until: shiftNow.until });
      }
    }

    function countedFor(date, band) {
      var words = shiftWords(date, band);
      return words ? "It counts for " + words + "." : "";
    }

    // Opened again in a shift this phone has rated: say so at once, rather than after a tap.
    function alreadyRated() {
      var rated = store.readRated();
      if (!rated || rated.shift_date !== shiftNow.date || rated.band !== shiftNow.band) return false;
      if (!(Date.now() < rated.until)) return false;
      finish(ALREADY, null, null, "Your rating for " + shiftWords(rated.shift_date, rated.band) +
        " has been counted. You can rate again from the next shift.");
      return true;
    }

    // A saved rating the server says is for another slot than the open one: the open slot's token instead.
    function retarget(body, problem) {
      if (!tokens || problem.type !== WRONG_SLOT || !problem.open_slot) return null;
      var fields = tokens.forSlot(problem.open_slot);
      if (!fields) return null;
      tokens.spent(problem.open_slot);
      return withFields(body, fields);
    }

    function queueRating(body, colour, tappedAt) {
      if (tokens && pending.slot) tokens.spent(pending.slot); // the saved rating holds the token now
      pending = null;
      store.enqueue(body, tappedAt);
      finish(SAVED_TITLE, colour, QUEUED);
    }

    // What proves this rating may count: the device secret (open), or the open slot's token (verified).
    function credentials() {
      if (!verified) return { device_secret: store.deviceSecret() };
      if (!tokens) return { problem: NO_VERIFIED };
      if (!pending.fields) {
        var chosen = tokens.forTap(pending.tappedAt);
        if (!chosen.fields) return { problem: chosen.problem };
        pending.slot = chosen.slot;
        pending.fields = chosen.fields;
      }
      return pending.fields;
    }

    function rate(colour, button) {
      if (!pending || pending.colour !== colour) {
        pending = { colour: colour, key: randomToken(16), tappedAt: Date.now(), slot: null, fields: null };
      }
      var tappedAt = pending.tappedAt;
      var proof = credentials();
      if (proof.problem) {
        pending = null;
        say(status, proof.problem, true);
        return;
      }
      var body = withFields({ join_code: joinCode, colour: colour, idempotency_key: pending.key }, proof);
      if (navigator.onLine === false) {
        queueRating(body, colour, tappedAt);
        return;
      }
      setBusy(true, button);
      say(status, "Sending your rating...");
      postWithRetry(endpoint, body).then(
        function (response) {
          if (response.status === 201) {
            if (tokens) tokens.spent(pending.slot);
            counted = { key: body.idempotency_key, token: body.token };
            pending = null;
            return response.json().catch(function () {
              return {};
            }).then(function (receipt) {
              remember(receipt.shift_date, receipt.shift_band);
              finish(THANKS, colour, null, countedFor(receipt.shift_date, receipt.shift_band));
              offerReasons();
            });
          }
          return problemOf(response).then(function (problem) {
            refused(response.status, problem, colour, button);
          });
        },
        function (error) {
          if (error && error.server) {
            setBusy(false);
            say(status, NOT_SENT, true);
            return;
          }
          queueRating(body, colour, tappedAt); // no answer even on the retry: keep it for later
        }
      );
    }

    function refused(code, problem, colour, button) {
      if (code === 409 && problem.type === ALREADY_RATED) {
        if (tokens) tokens.spent(pending.slot);
        pending = null;
        remember(shiftNow.date, shiftNow.band);
        finish(ALREADY, null);
        return;
      }
      setBusy(false);
      if (tokens && code === 409 && problem.type === WRONG_SLOT && problem.open_slot && !pending.retargeted) {
        // The phone's clock chose another slot than the server's: spend the open slot's token, once.
        var fields = tokens.forSlot(problem.open_slot);
        if (fields) {
          pending.slot = problem.open_slot;
          pending.fields = fields;
          pending.retargeted = true;
          rate(colour, button);
          return;
        }
      }
      var message = tokens ? tokens.refused(pending.slot, problem) : null;
      pending = null;
      say(status, message || problem.detail || NOT_SENT, true);
    }

    // --- the optional reasons, for a rating already counted -------------------------------------------

    function offerReasons() {
      if (!reasonsForm || !reasonsEndpoint) return;
      say(reasonsStatus, "");
      reasonsForm.hidden = false;
    }

    function closeReasons(message) {
      reasonsForm.hidden = true;
      if (message) say(doneNote, message);
      done.focus();
    }

    function reasonButtons(disabled) {
      Array.prototype.forEach.call(reasonsForm.querySelectorAll("button"), function (button) {
        button.disabled = disabled;
      });
    }

    function sendReasons(event) {
      event.preventDefault();
      var checked = reasonsForm.querySelectorAll("input[name=reason]:checked");
      var ids = Array.prototype.map.call(checked, function (box) {
        return parseInt(box.value, 10);
      });
      if (!ids.length || ids.length > 10) {
        say(reasonsStatus, ids.length ? REASONS_TOO_MANY : REASONS_NONE, true);
        return;
      }
      // The same proof as the rating: its token (verified), or this phone's device secret (open).
      var proof = counted.token ? { token: counted.token } : { device_secret: store.deviceSecret() };
      var body = withFields({ join_code: joinCode, idempotency_key: counted.key, reasons: ids }, proof);
      reasonButtons(true);
      say(reasonsStatus, "Sending your reasons...");
      postWithRetry(reasonsEndpoint, body).then(
        function (response) {
          if (response.status === 200) {
            closeReasons(REASONS_ADDED);
            return;
          }
          return problemOf(response).then(function (problem) {
            if (response.status === 409 && problem.type === REASONS_ALREADY_ADDED) {
              closeReasons(REASONS_ADDED);
              return;
            }
            reasonButtons(false);
            say(reasonsStatus, problem.detail || REASONS_NOT_SENT, true);
          });
        },
        function () {
          reasonButtons(false);
          say(reasonsStatus, REASONS_NOT_SENT, true);
        }
      );
    }


    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        if (!button.disabled) rate(button.getAttribute("data-colour"), button);
      });
    });
    if (reasonsForm) {
      reasonsForm.addEventListener("submit", sendReasons);
      document.getElementById("skip-reasons").addEventListener("click", function () {
        closeReasons(null);
      });
    }
    window.addEventListener("online", queue.flush);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") queue.flush();
    });
    if (verified && !tokens) say(status, NO_VERIFIED, true);
    if (navigator.onLine === false && store.readQueue().length) say(status, WAITING);
    if (!store.readQueue().length) alreadyRated();
    queue.flush();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  if (document.readyState === "complete") {
    registerServiceWorker();
  } else {
    window.addEventListener("load", registerServiceWorker);
  }
})();
