/* Pulse: what the rating page and the kiosk page share: random tokens, and posting JSON with no cookies,
   no referrer and a time limit (retried once, with the same idempotency key, where no answer came).
   Loaded before rate.js or kiosk.js; no third-party code. */
(function () {
  "use strict";

  var TIMEOUT_MS = 20000; // an answer slower than this is treated as lost (a retry is counted once)

  function randomToken(bytes) {
    var buffer = new Uint8Array(bytes);
    crypto.getRandomValues(buffer);
    var binary = "";
    for (var i = 0; i < buffer.length; i++) binary += String.fromCharCode(buffer[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Resolves with the response; rejects when no answer came (offline, timed out) or on a server error (5xx),
  // which the caller may retry with the same idempotency key.
  function post(url, body) {
    var options = {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    };
    var timer = null;
    if (window.AbortController) {
      var controller = new AbortController();
      options.signal = controller.signal;
      timer = setTimeout(function () {
        controller.abort();
      }, TIMEOUT_MS);
    }
    return fetch(url, options).then(
      function (response) {
        clearTimeout(timer);
        if (response.status >= 500) {
          var error = new Error("server " + response.status);
          error.server = true;
          throw error;
        }
        return response;
      },
      function (error) {
        clearTimeout(timer);
        throw error;
      }
    );
  }

  // post, and once more with the same body (so the same idempotency key) if no answer came or the server
  // failed: the server counts the two as one.
  function postWithRetry(url, body) {
    return post(url, body).catch(function () {
      return post(url, body);
    });
  }

  function problemOf(response) {
    return response.json().catch(function () {
      return {};
    });
  }

  window.PulseNet = {
    randomToken: randomToken,
    post: post,
    postWithRetry: postWithRetry,
    problemOf: problemOf
  };
})();
