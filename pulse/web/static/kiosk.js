/* Pulse kiosk page: a shared ward tablet where each tap counts as one person. No device secret, no queue.
   The server enforces the wait between taps and the cap per shift; the timers here only show them. */
(function () {
  "use strict";

  var net = window.PulseNet; // pulse-net.js: randomToken, postWithRetry, problemOf
  var randomToken = net.randomToken;
  var postWithRetry = net.postWithRetry;
  var problemOf = net.problemOf;

  var PROBLEM = "urn:pulse:problem:";
  var COOLDOWN = PROBLEM + "kiosk-cooldown";
  var CAP_REACHED = PROBLEM + "kiosk-cap-reached";
  var SENDING = "Sending your rating...";
  var SWITCHED_OFF = "This tablet's link has been switched off. Ask your manager.";
  var OFFLINE = "Not sent: this tablet is offline. Please try again in a moment.";
  var NOT_SENT = "Not sent: Pulse could not take your rating just now. Please try again in a moment.";

  function whole(value, fallback) {
    var number = parseInt(value, 10);
    return isFinite(number) && number >= 0 ? number : fallback;
  }

  function start() {
    var panel = document.querySelector("[data-kiosk-token]");
    if (!panel) return;
    var token = panel.getAttribute("data-kiosk-token");
    var endpoint = panel.getAttribute("data-endpoint");
    var cooldownSeconds = whole(panel.getAttribute("data-cooldown-seconds"), 10);
    var resetSeconds = whole(panel.getAttribute("data-reset-seconds"), 5);
    var buttons = Array.prototype.slice.call(panel.querySelectorAll("button[data-colour]"));
    var question = document.getElementById("question");
    var status = document.getElementById("status");
    var wait = document.getElementById("wait");
    var ask = document.getElementById("ask");
    var done = document.getElementById("done");
    var pending = null; // a tap whose answer never arrived keeps its key for the next tap of that colour
    var waitUntil = 0; // when the next person may rate (ms since the epoch)
    var locked = false; // the link is switched off or the shift is full: until the page is reloaded
    var waitTimer = null;
    var resetTimer = null;

    function setEnabled(enabled, chosen) {
      buttons.forEach(function (button) {
        button.disabled = !enabled;
        button.classList.toggle("sending", !enabled && button === chosen);
      });
    }

    function say(message, problem) {
      status.textContent = message;
      status.classList.toggle("problem", !!problem);
    }

    function secondsLeft() {
      return Math.max(0, Math.ceil((waitUntil - Date.now()) / 1000));
    }

    // The buttons stay off until the wait is over; the countdown is shown (role=timer: not read out each tick).
    function showWait() {
      clearInterval(waitTimer);
      waitTimer = null;
      var tick = function () {
        var left = secondsLeft();
        if (locked) return;
        if (left <= 0) {
          clearInterval(waitTimer);
          waitTimer = null;
          wait.textContent = "";
          say(""); // a "please wait" answer is over too
          setEnabled(true);
          return;
        }
        wait.textContent = "The next person can rate in " + left + (left === 1 ? " second." : " seconds.");
        setEnabled(false);
      };
      tick();
      if (secondsLeft() > 0) waitTimer = setInterval(tick, 250);
    }

    // The same thanks whatever was tapped: nothing on a shared screen tells the next person how it went.
    function thank() {
      say("");
      ask.hidden = true;
      done.hidden = false;
      done.focus();
      resetTimer = setTimeout(reset, resetSeconds * 1000);
    }

    function reset() {
      resetTimer = null;
      done.hidden = true;
      ask.hidden = false;
      question.focus();
      showWait();
    }

    function refuse(message) {
      locked = true;
      clearInterval(waitTimer);
      wait.textContent = "";
      setEnabled(false);
      say(message, true);
    }

    function rate(colour, button) {
      if (!pending || pending.colour !== colour) pending = { colour: colour, key: randomToken(16) };
      var body = { kiosk_token: token, colour: colour, idempotency_key: pending.key };
      if (navigator.onLine === false) {
        say(OFFLINE, true);
        return;
      }
      setEnabled(false, button);
      say(SENDING);
      postWithRetry(endpoint, body).then(
        function (response) {
          if (response.status === 201) {
            pending = null;
            return response.json().catch(function () {
              return {};
            }).then(function (receipt) {
              waitUntil = Date.now() + 1000 * whole(receipt.next_tap_in, cooldownSeconds);
              thank();
            });
          }
          return problemOf(response).then(function (problem) {
            pending = null;
            if (response.status === 404) {
              refuse(SWITCHED_OFF);
            } else if (response.status === 409 && problem.type === CAP_REACHED) {
              refuse(problem.detail || "Everyone on this shift has rated.");
            } else if (response.status === 409 && problem.type === COOLDOWN) {
              var seconds = whole(problem.retry_after, whole(response.headers.get("Retry-After"), cooldownSeconds));
              waitUntil = Date.now() + 1000 * seconds;
              say(problem.detail || "Please wait a moment before the next rating.", true);
              showWait();
            } else {
              setEnabled(true);
              say(problem.detail || NOT_SENT, true);
            }
          });
        },
        function (error) {
          setEnabled(true);
          say(error && error.server ? NOT_SENT : OFFLINE, true);
        }
      );
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        if (!button.disabled && !locked && !resetTimer) rate(button.getAttribute("data-colour"), button);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
