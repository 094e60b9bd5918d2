/* Pulse service worker (served at /r/sw.js, scope /r/): lets a team's rating page open without a connection.

   It keeps the page's own files and the rating and privacy pages a phone has opened, nothing else. It never
   touches the API (/api/) or any POST: a rating is sent by the page itself, or saved there while offline.
   Change VERSION whenever one of STATIC_ASSETS changes: the new worker then fetches them before it
   takes over. (Without that, a change still reaches a phone, one visit later: each file is served from the
   cache and fetched again behind the scenes.) */
"use strict";

var VERSION = "2026-12-4";
var PREFIX = "pulse-";
var STATIC_CACHE = PREFIX + "static-" + VERSION;
// Pages are always fetched first and only read offline, so their cache outlives a new version.
var PAGES_CACHE = PREFIX + "pages";
var STATIC_ASSETS = [
  "/r/static/rate.css", "/r/static/pulse-net.js", "/r/static/rate-store.js", "/r/static/rate-queue.js",
  "/r/static/rate.js", "/r/static/icon.svg"
];
// Verified rating's modules, and the token code with its vendored VOPRF bundle (72 kB): kept at install
// only where a verified team's page is open, so that an open-mode phone never downloads them. Any of them
// that a page fetches later is kept then (staticAsset). Offline, a phone spends the tokens it holds: only
// fetching new ones needs tokens.js and the bundle, and that needs the network anyway.
var VERIFIED_ASSETS = [
  "/r/static/verified-store.js", "/r/static/verified-slots.js", "/r/static/verified-issue.js",
  "/r/static/verified-rate.js", "/r/static/tokens.js", "/r/static/vendor/voprf.bundle.js"
];
var VERIFIED_PAGE = 'data-mode="verified"';
// /r/<join code> and /r/<join code>/privacy. Join codes are at least 8 characters, so /r/sw.js is not one.
var PAGE = /^\/r\/[A-Za-z0-9_-]{8,64}(\/privacy)?$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    Promise.all([
      caches.open(STATIC_CACHE).then(function (cache) {
        return cache.addAll(STATIC_ASSETS);
      }),
      keepOpenPages()
    ]).then(function () {
      return self.skipWaiting();
    })
  );
});

// The page that registered this worker was loaded before the worker could see it: keep a copy now, so the
// page opens offline from the first visit, not only from the second.
function keepOpenPages() {
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    return Promise.all(windows.map(function (client) {
      var url = new URL(client.url);
      if (url.origin !== self.location.origin || !PAGE.test(url.pathname)) return null;
      return fetch(url.origin + url.pathname, { credentials: "omit" }).then(function (response) {
        var text = response.ok ? response.clone().text() : Promise.resolve("");
        return Promise.all([remember(url.origin + url.pathname, response), text]).then(function (done) {
          if (done[1].indexOf(VERIFIED_PAGE) === -1) return null;
          return caches.open(STATIC_CACHE).then(function (cache) {
            return cache.addAll(VERIFIED_ASSETS);
          });
        });
      }).catch(function () {
        // offline already: the page is kept on its next visit
      });
    }));
  });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(PREFIX) === 0 && name !== STATIC_CACHE && name !== PAGES_CACHE;
      }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () {
      // Start the page's request as the worker wakes up, so that network-first costs no extra wait.
      if (self.registration.navigationPreload) return self.registration.navigationPreload.enable();
    }).then(function () {
      return self.clients.claim();
    })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/r/") !== 0) return;
  if (url.pathname.indexOf("/r/static/") === 0) {
    event.respondWith(staticAsset(event, url));
  } else if (request.mode === "navigate" && PAGE.test(url.pathname)) {
    event.respondWith(page(event, url));
  }
  // Anything else (the poster, the manifest, this file) goes to the network as usual.
});

// Cache first; the file is fetched again behind the scenes, so a change reaches the next visit.
function staticAsset(event, url) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(url.pathname).then(function (cached) {
      var fresh = fetch(event.request).then(function (response) {
        if (response.ok) event.waitUntil(cache.put(url.pathname, response.clone()));
        return response;
      });
      if (cached) {
        event.waitUntil(fresh.catch(function () {}));
        return cached;
      }
      return fresh;
    });
  });
}

// Network first, so the page is always the current one online; the last copy opened is the fallback.
function page(event, url) {
  var key = url.origin + url.pathname; // a query string never makes a second copy
  return Promise.resolve(event.preloadResponse).then(function (preloaded) {
    return preloaded || fetch(event.request);
  }).then(function (response) {
    event.waitUntil(remember(key, response));
    return response;
  }).catch(function () {
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(key);
    }).then(function (cached) {
      return cached || Response.error();
    });
  });
}

function remember(key, response) {
  var copy = response.status === 200 && !response.redirected ? response.clone() : null;
  return caches.open(PAGES_CACHE).then(function (cache) {
    if (copy) return cache.put(key, copy);
    // A replaced or switched-off join code must not keep opening from the cache.
    if (response.status === 404 || response.status === 410) return cache.delete(key);
  });
}
