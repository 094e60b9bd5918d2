/* Pulse rating page: ratings saved on the phone while it was offline, sent once it is back online, oldest
   first, each counted once however often it is sent (its idempotency key, and in verified rating its token).
   Needs pulse-net.js and rate-store.js (loaded before it). No third-party code. */
(function () {
  "use strict";

  var store = window.PulseRateStore;
  var MAX_AGE_SECONDS = 86400; // the server takes a saved rating for up to a day after the tap
  var PROBLEM = "urn:pulse:problem:";
  var ALREADY_RATED = PROBLEM + "already-rated";
  var ALREADY = "You've already rated this shift. Thank you.";
  var SENT = "Your saved rating has been sent and counted.";
  var NOT_COUNTED = "Your saved rating could not be counted.";

  function ageSeconds(item) {
    return Math.max(0, Math.round((Date.now() - item.tapped_at) / 1000));
  }

  /* options: endpoint (the ratings API), tell(message, problem) (where the page shows news), and
     retarget(body, problem): for a refusal that another body would not get (verified rating: the token of
     the slot the server names as open), that body, or null. */
  function create(options) {
    var flushing = false;

    // Sends saved ratings one after another, oldest first; stops at the first that gets no answer.
    // Resolves once this run is over. Each is removed once counted or refused (4xx), kept otherwise.
    function sendQueued() {
      var news = { sent: false };
      return store.readQueue().reduce(function (chain, item) {
        return chain.then(function (carryOn) {
          return carryOn ? sendOne(item, news, true) : false;
        });
      }, Promise.resolve(true));
    }

    function sendOne(item, news, mayRetarget) {
      var age = ageSeconds(item);
      if (age > MAX_AGE_SECONDS) {
        store.dequeue(item.body.idempotency_key); // too old to count: the server would refuse it
        return Promise.resolve(true);
      }
      var body = {};
      Object.keys(item.body).forEach(function (name) {
        body[name] = item.body[name];
      });
      body.age_seconds = age;
      return window.PulseNet.post(options.endpoint, body).then(
        function (response) {
          if (response.status === 201) {
            store.dequeue(body.idempotency_key);
            news.sent = true;
            options.tell(SENT);
            return true;
          }
          if (response.status >= 400 && response.status < 500 && response.status !== 429) {
            return window.PulseNet.problemOf(response).then(function (problem) {
              var other = mayRetarget && options.retarget ? options.retarget(item.body, problem) : null;
              if (other) {
                store.replaceQueued(other);
                return sendOne({ body: other, tapped_at: item.tapped_at }, news, false);
              }
              store.dequeue(body.idempotency_key);
              // Already rated: this phone's rating for that shift was counted before. Nothing to add.
              if (problem.type === ALREADY_RATED) {
                if (!news.sent) options.tell(ALREADY);
              } else {
                options.tell(problem.detail ? NOT_COUNTED + " " + problem.detail : NOT_COUNTED, true);
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
    function flush() {
      if (flushing || navigator.onLine === false || !store.readQueue().length) return;
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

    return { flush: flush };
  }

  window.PulseRateQueue = { create: create };
})();
