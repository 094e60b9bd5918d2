/* Runs plotly.js (the cartesian bundle in vendor/) without holding up the page.

   As a plain script tag it had to be fetched and run before Dash could even ask for the page, about a third
   of a first visit's time. Now its download starts with the page (a preload link in the page's head) and it
   runs as Dash's first request leaves (Dash's request_pre hook calls load()), while the server draws the
   page's figures. Until then window.Plotly is a promise-like: dcc.Graph waits on it (Promise.resolve adopts
   it) and fetches no plotly.js of its own; the bundle replaces it with the real Plotly as it runs. */
(function () {
  "use strict";
  var BUNDLE = "vendor/plotly-cartesian-4.1.1.min.js";
  var FALLBACK_MS = 3000; // should no request ever leave (no page needs none), load it anyway
  if (window.Plotly) return;
  var here = document.currentScript ? document.currentScript.src : "";
  var url = here.replace(/plotly-loader\.js(\?.*)?$/, BUNDLE);
  var settle = null;
  var loaded = new Promise(function (resolve, reject) {
    settle = { resolve: resolve, reject: reject };
  });
  var started = false;

  window.Plotly = {
    then: function (onLoaded, onFailed) {
      return loaded.then(onLoaded, onFailed);
    }
  };

  function run() {
    var script = document.createElement("script");
    script.src = url;
    script.onload = function () {
      settle.resolve();
    };
    script.onerror = function () {
      settle.reject(new Error("plotly.js did not load"));
    };
    document.head.appendChild(script);
  }

  // After the request on its way: the main thread is free while the server works.
  function load() {
    if (started) return;
    started = true;
    setTimeout(run, 0);
  }

  window.pulsePlotly = { load: load };
  setTimeout(load, FALLBACK_MS);
})();
