/* Pulse rating page: what the phone keeps in this browser's storage for rating (the device secret of open
   rating, the ratings saved while offline, the last shift it had counted), and the words for a shift.
   Loaded before rate-queue.js and rate.js; no third-party code. Where storage is switched off (some private
   modes), everything is kept in memory for this visit. */
(function () {
  "use strict";

  var SECRET_KEY = "pulse.device-secret";
  var QUEUE_KEY = "pulse.queue";
  // The shift this phone last had counted (date, band, and until when it takes ratings): never the colour,
  // nor the team. With it the page says "already rated" before anyone taps, instead of after.
  var RATED_KEY = "pulse.rated";
  var DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];

  var memory = { secret: null, queue: [], rated: null };

  // The device's random secret (32 bytes, 43 characters), for open rating. It stays on this device and is
  // never shown; the server only uses it to refuse a second rating for the same shift and never stores it.
  function deviceSecret() {
    try {
      var stored = window.localStorage.getItem(SECRET_KEY);
      if (stored && /^[A-Za-z0-9_-]{43}$/.test(stored)) return stored;
      stored = window.PulseNet.randomToken(32);
      window.localStorage.setItem(SECRET_KEY, stored);
      return stored;
    } catch (err) {
      if (!memory.secret) memory.secret = window.PulseNet.randomToken(32);
      return memory.secret;
    }
  }

  // "the Early shift of Wednesday 18 November", from the shift date (2026-11-18) and the band's name.
  function shiftWords(date, band) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || "");
    if (!parts || !band) return "";
    var day = new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3]));
    return "the " + band + " shift of " + DAYS[day.getUTCDay()] + " " + day.getUTCDate() + " " +
      MONTHS[day.getUTCMonth()];
  }

  function readRated() {
    try {
      var rated = JSON.parse(window.localStorage.getItem(RATED_KEY) || "null");
      return rated && typeof rated.until === "number" ? rated : null;
    } catch (err) {
      return memory.rated || null;
    }
  }

  function writeRated(rated) {
    memory.rated = rated;
    try {
      window.localStorage.setItem(RATED_KEY, JSON.stringify(rated));
    } catch (err) {
      // kept in memory for this visit
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

  // A saved rating keeps its whole body: in verified rating that holds the token it spends, so the token
  // is spent once, by this rating, whenever it is sent.
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

  // A saved rating whose body changed before it was sent again (verified: the open slot's token instead).
  function replaceQueued(body) {
    writeQueue(readQueue().map(function (item) {
      return item.body.idempotency_key === body.idempotency_key ? { body: body, tapped_at: item.tapped_at } : item;
    }));
  }

  window.PulseRateStore = {
    deviceSecret: deviceSecret,
    shiftWords: shiftWords,
    readRated: readRated,
    writeRated: writeRated,
    readQueue: readQueue,
    enqueue: enqueue,
    dequeue: dequeue,
    replaceQueued: replaceQueued
  };
})();
