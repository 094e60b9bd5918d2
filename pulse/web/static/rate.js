/* Pulse rating page: one tap sends one rating. No inline script, no third-party code, nothing tracked.
   A rating tapped while offline waits in this browser's storage and is sent when the phone is back online. */
(function () {
  "use strict";

  var net = window.PulseNet; // pulse-net.js: randomToken, post, problemOf
  var randomToken = net.randomToken;
  var post = net.post;
  var problemOf = net.problemOf;

  var SECRET_KEY = "pulse.device-secret";
  var QUEUE_KEY = "pulse.queue";
  var MAX_AGE_SECONDS = 86400; // the server takes a saved rating for up to a day after the tap
  var PROBLEM = "urn:pulse:problem:";
  var ALREADY_RATED = PROBLEM + "already-rated";
  var REASONS_ALREADY_ADDED = PROBLEM + "reasons-already-added";
  var THANKS = "Thank you. Your rating has been counted.";
  var SAVED_TITLE = "Thank you for rating your shift.";
  var ALREADY = "You've already rated this shift. Thank you.";
  var NOT_SENT = "Your rating could not be sent. Please tap again in a moment.";
  var QUEUED = "You're offline. Your rating is saved on this phone and will be sent when you're back online.";
  var WAITING = "A rating is saved on this phone. It will be sent when you're back online.";
  var SENT = "Your saved rating has been sent and counted.";
  var NOT_COUNTED = "Your saved rating could not be counted.";
  var REASONS_ADDED = "Thanks, your reasons have been added.";
  var REASONS_NONE = "Choose at least one reason, or choose Skip.";
  var REASONS_TOO_MANY = "Choose up to 10 reasons.";
  var REASONS_NOT_SENT = "Your reasons could not be sent. Try again, or choose Skip.";

  var memory = { secret: null, queue: [] };

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
      if (!memory.secret) memory.secret = randomToken(32);
      return memory.secret;
    }
  }

  function isQueued(item) {
    return !!item && typeof item.tapped_at === "number" && !!item.body &&
      typeof item.body.idempotency_key === "string";
  }

  function readQueue() {
    var raw;
    try {
      raw = window.localStorage.getItem(QUEUE_KEY);
    } catch (err) {
      return memory.queue.slice();
    }
    try {
      var items = JSON.parse(raw || "[]");
      return Array.isArray(items) ? items.filter(isQueued) : [];
    } catch (err) {
      return [];
    }
  }

  function writeQueue(items) {
    memory.queue = items.slice();
    try {
      if (items.length) window.localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
      else window.localStorage.removeItem(QUEUE_KEY);
    } catch (err) {
      // kept in memory for this visit
    }
  }

  function enqueue(body, tappedAt) {
    var items = readQueue().filter(function (item) {
      return item.body.idempotency_key !== body.idempotency_key;
    });
    items.push({ body: body, tapped_at: tappedAt });
    writeQueue(items);
  }

  // Always re-read before writing: a tap may have queued another rating while this one was on its way.
  function dequeue(key) {
    writeQueue(readQueue().filter(function (item) {
      return item.body.idempotency_key !== key;
    }));
  }

  function ageSeconds(item) {
    return Math.max(0, Math.round((Date.now() - item.tapped_at) / 1000));
  }

  function postWithRetry(url, body) {
    return post(url, body).catch(function () {
      return post(url, body); // one retry with the same key: the server counts it once
    });
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
    var buttons = Array.prototype.slice.call(panel.querySelectorAll("button[data-colour]"));
    var status = document.getElementById("status");
    var ask = document.getElementById("ask");
    var done = document.getElementById("done");
    var doneTitle = document.getElementById("done-title");
    var doneNote = document.getElementById("done-note");
    var support = document.getElementById("support");
    var reasonsForm = document.getElementById("reasons");
    var reasonsStatus = document.getElementById("reasons-status");
    // A rating whose answer never arrived keeps its key, so tapping the same colour again is counted once.
    var pending = null;
    // The rating counted on this page: its reasons are sent with the same idempotency key.
    var counted = null;

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

    function finish(title, colour, note) {
      doneTitle.textContent = title;
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

    function queueRating(body, colour, tappedAt) {
      pending = null;
      enqueue(body, tappedAt);
      finish(SAVED_TITLE, colour, QUEUED);
    }

    function rate(colour, button) {
      if (!pending || pending.colour !== colour) {
        pending = { colour: colour, key: randomToken(16), tappedAt: Date.now() };
      }
      var tappedAt = pending.tappedAt;
      var body = {
        join_code: joinCode,
        colour: colour,
        device_secret: deviceSecret(),
        idempotency_key: pending.key
      };
      if (navigator.onLine === false) {
        queueRating(body, colour, tappedAt);
        return;
      }
      setBusy(true, button);
      say(status, "Sending your rating...");
      postWithRetry(endpoint, body).then(
        function (response) {
          if (response.status === 201) {
            pending = null;
            counted = { key: body.idempotency_key };
            finish(THANKS, colour);
            offerReasons();
            return;
          }
          return problemOf(response).then(function (problem) {
            if (response.status === 409 && problem.type === ALREADY_RATED) {
              pending = null;
              finish(ALREADY, null);
              return;
            }
            setBusy(false);
            say(status, problem.detail || NOT_SENT, true);
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
      var body = {
        join_code: joinCode,
        device_secret: deviceSecret(),
        idempotency_key: counted.key,
        reasons: ids
      };
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

    // --- saved ratings ----------------------------------------------------------------------------------

    var flushing = false;

    // Sends saved ratings one after another, oldest first; stops at the first that gets no answer.
    // Resolves once this run is over. Each is removed once counted or refused (4xx), kept otherwise.
    function sendQueued() {
      var news = { sent: false };
      return readQueue().reduce(function (chain, item) {
        return chain.then(function (carryOn) {
          return carryOn ? sendOne(item, news) : false;
        });
      }, Promise.resolve(true));
    }

    function sendOne(item, news) {
      var age = ageSeconds(item);
      if (age > MAX_AGE_SECONDS) {
        dequeue(item.body.idempotency_key); // too old to count: the server would refuse it
        return Promise.resolve(true);
      }
      var body = {};
      Object.keys(item.body).forEach(function (name) {
        body[name] = item.body[name];
      });
      body.age_seconds = age;
      return post(endpoint, body).then(
        function (response) {
          if (response.status === 201) {
            dequeue(body.idempotency_key);
            news.sent = true;
            tell(SENT);
            return true;
          }
          if (response.status >= 400 && response.status < 500 && response.status !== 429) {
            dequeue(body.idempotency_key);
            return problemOf(response).then(function (problem) {
              // Already rated: this phone's rating for that shift was counted before. Nothing to add.
              if (problem.type === ALREADY_RATED) {
                if (!news.sent) tell(ALREADY);
              } else {
                tell(problem.detail ? NOT_COUNTED + " " + problem.detail : NOT_COUNTED, true);
              }
              return true;
            });
          }
          return false; // 429 and anything unexpected: keep it for the next chance
        },
        function () {
          return false; // still offline, or the server is down: keep it
        }
      );
    }

    // Never two runs at once, in this page or (where the browser has Web Locks) in another tab:
    // a saved rating is never on its way twice, and its idempotency key makes any retry count once.
    function flushQueue() {
      if (flushing || navigator.onLine === false || !readQueue().length) return;
      flushing = true;
      var release = function () {
        flushing = false;
      };
      var run;
      try {
        run = navigator.locks && navigator.locks.request
          ? navigator.locks.request("pulse.queue", { ifAvailable: true }, function (lock) {
            return lock ? sendQueued() : null;
          })
          : sendQueued();
      } catch (err) {
        run = sendQueued();
      }
      run.then(release, release);
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
    window.addEventListener("online", flushQueue);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") flushQueue();
    });
    if (navigator.onLine === false && readQueue().length) say(status, WAITING);
    flushQueue();
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
