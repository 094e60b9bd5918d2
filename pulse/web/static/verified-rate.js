/* Pulse verified rating on a team's rating page (an ES module): shows the three answers only when this phone
   can rate the open shift (enrolled, with its token), otherwise a clear way to enrol or what is missing; keeps
   the phone's tokens topped up for this week and the next, and says for how many shifts it is ready.
   rate.js sends the rating; it asks this module (window.PulseVerified) for the token to spend. */

import * as store from "./verified-store.js";
import { refreshTokens, storedCredential } from "./verified-issue.js";
import { covers, readTimeline, readyCount, readyWords, slotAt } from "./verified-slots.js";

const PROBLEM = "urn:pulse:problem:";
const MESSAGES = {
  gettingReady: "Getting this phone ready to rate...",
  noShift: "No shift is open for rating just now. You can rate from the start of your next shift.",
  tooOld: "This page is out of date. Connect to the internet and open it again to rate.",
  offline: "This phone has no rating token for this shift yet. Connect to the internet, then try again.",
  failed: "Pulse could not get this phone ready to rate just now. Please try again in a moment.",
  keysRefused:
    "This phone refused rating tokens from Pulse, because they were not made with the keys Pulse publishes " +
    "for everyone. Tokens like that could let someone recognise your ratings, so none of them will be used. " +
    "Please tell the team that runs Pulse in your organisation.",
  forbidden:
    "Pulse cannot give this phone rating tokens: you are not on any team's staff list at the moment. If " +
    "that is wrong, ask your manager.",
  notVerified: "Rating for this team has changed. Reload this page.",
  invalid: "The token this phone held for this shift was not accepted. Getting a new one...",
  reEnrol: "This phone's enrolment is no longer valid. Enrol it again to rate."
};

function $(id) {
  return document.getElementById(id);
}

// Whether this phone has already rated `slot`: spent on this page, or (after a reload) the shift the phone
// last had counted (rate-store.js's note: date and band name), or a saved rating waiting to be sent with it.
const spentHere = new Set();

function ratedAlready(slot, now) {
  if (spentHere.has(`${slot.shift_date}/${slot.band_id}`)) return true;
  try {
    const rated = JSON.parse(window.localStorage.getItem("pulse.rated") || "null");
    if (rated && rated.shift_date === slot.shift_date && rated.band === slot.band && now < rated.until) {
      return true;
    }
    const queue = JSON.parse(window.localStorage.getItem("pulse.queue") || "[]");
    return Array.isArray(queue) && queue.some((item) => {
      const token = item && item.body && item.body.token;
      return !!token && token.shift_date === slot.shift_date && token.band_id === slot.band_id;
    });
  } catch (error) {
    return false;
  }
}

function todayIn(timeline, now) {
  // The shift date of the open slot, else the first date the timeline knows: the server's calendar.
  const open = slotAt(timeline, now);
  if (open) return open.shift_date;
  return timeline.length ? timeline[0].date : new Date(now).toISOString().slice(0, 10);
}

function setUp(panel) {
  const teamId = Number(panel.getAttribute("data-team-id"));
  const teamName = panel.getAttribute("data-team-name") || "this team";
  const timeline = readTimeline(panel);
  const weeks = (panel.getAttribute("data-weeks") || "").split(" ").filter(Boolean);
  const keysEndpoint = panel.getAttribute("data-keys-endpoint");
  const tokensEndpoint = panel.getAttribute("data-tokens-endpoint");
  const enrol = $("enrol-needed");
  const enrolNote = $("enrol-note");
  const choices = $("choices");
  const tokenStatus = $("token-status");
  const retry = $("token-retry");
  let problem = ""; // what the last fetch said, when it stops the phone from rating
  let fetching = null;
  let enrolment = ""; // why this phone's enrolment was refused (it must enrol again), once the server said so

  function openFields(now) {
    const slot = slotAt(timeline, now);
    return slot ? store.spendFields(teamId, slot) : null;
  }

  function show() {
    const now = Date.now();
    if (!storedCredential() || enrolment) {
      enrolNote.textContent = enrolment;
      enrolNote.hidden = !enrolment;
      enrol.hidden = false;
      choices.hidden = true;
      retry.hidden = true;
      tokenStatus.textContent = "";
      return;
    }
    enrol.hidden = true;
    const open = slotAt(timeline, now);
    const ready = openFields(now) !== null;
    const rated = !ready && !!open && ratedAlready(open, now);
    choices.hidden = !ready;
    let line = readyWords(readyCount(timeline, now, teamId));
    if (!ready && !rated) {
      if (fetching) line = MESSAGES.gettingReady;
      else if (problem) line = problem;
      else if (!covers(timeline, now)) line = MESSAGES.tooOld;
      else if (!slotAt(timeline, now)) line = line ? `${MESSAGES.noShift} ${line}` : MESSAGES.noShift;
      else line = navigator.onLine === false ? MESSAGES.offline : MESSAGES.failed;
    } else if (problem) {
      line = `${line} ${problem}`;
    }
    tokenStatus.textContent = line;
    tokenStatus.classList.toggle("problem", !ready && !rated && !fetching && line !== MESSAGES.noShift);
    // Trying again helps only when the connection or the server failed, not with a refusal.
    retry.hidden = line !== MESSAGES.offline && line !== MESSAGES.failed;
  }

  function needEnrolment(detail) {
    enrolment = detail || MESSAGES.reEnrol;
    show();
  }

  function explain(result) {
    switch (result.outcome) {
      case "ready":
      case "offline":
        return "";
      case "keys-refused":
        return MESSAGES.keysRefused;
      case "forbidden":
        return result.detail || MESSAGES.forbidden;
      case "not-your-team":
        return `You are not on ${teamName}'s staff list in Pulse, so this phone cannot rate for it. If you ` +
          "work in this team, ask your manager to add you.";
      case "not-verified":
        return MESSAGES.notVerified;
      default:
        return MESSAGES.failed;
    }
  }

  /** Tops up this phone's tokens (at most one fetch at a time); resolves once the page shows the result. */
  function refresh() {
    if (fetching) return fetching;
    if (!storedCredential() || navigator.onLine === false || !weeks.length) {
      show();
      return Promise.resolve();
    }
    const now = Date.now();
    fetching = refreshTokens({ keysEndpoint, tokensEndpoint, teamId, weeks, timeline, today: todayIn(timeline, now) })
      .catch(() => ({ outcome: "failed", detail: "" }))
      .then((result) => {
        fetching = null;
        if (result.outcome === "enrolment-needed") {
          needEnrolment(result.detail);
          return;
        }
        problem = explain(result);
        show();
      });
    show();
    return fetching;
  }

  window.PulseVerified = {
    /** The token a tap at `tappedAt` (ms) spends: { slot, fields }, or { problem } saying what is missing. */
    forTap(tappedAt) {
      const slot = slotAt(timeline, tappedAt);
      if (!slot) return { problem: covers(timeline, tappedAt) ? MESSAGES.noShift : MESSAGES.tooOld };
      const fields = store.spendFields(teamId, slot);
      if (!fields) {
        refresh();
        return { problem: problem || (navigator.onLine === false ? MESSAGES.offline : MESSAGES.failed) };
      }
      return { slot, fields };
    },
    /** The fields for a slot the server names ({ shift_date, band_id }), or null without its token. */
    forSlot(slot) {
      return store.spendFields(teamId, slot);
    },
    /** The slot's token is spent (counted, or saved on the phone in a rating waiting to be sent). */
    spent(slot) {
      if (slot) {
        spentHere.add(`${slot.shift_date}/${slot.band_id}`);
        store.remove(teamId, slot);
      }
      show();
    },
    /** A rating was refused: forget a token that cannot count, and say what the person can do. */
    refused(slot, refusal) {
      const kind = (refusal.type || "").replace(PROBLEM, "");
      if (kind === "enrolment-needed") {
        needEnrolment(refusal.detail);
        return refusal.detail || MESSAGES.reEnrol;
      }
      if (slot && kind === "shift-closed") store.remove(teamId, slot);
      if (slot && kind === "token-invalid") {
        // Forget what the server could not check (the field it names: the token or a pseudonym), fetch anew.
        const ids = store.fieldIds(teamId, slot);
        const named = Object.keys(refusal.errors || {}).filter((field) => ids[field]);
        store.forget((named.length ? named : ["token"]).map((field) => ids[field]));
        refresh();
        return MESSAGES.invalid;
      }
      show();
      return null;
    }
  };

  retry.addEventListener("click", () => {
    problem = "";
    refresh();
  });
  window.addEventListener("online", refresh);
  window.addEventListener("offline", show);
  // Back to the page: top up if the open shift has no token, or at most every ten minutes otherwise.
  let lastRefresh = Date.now();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    if (openFields(Date.now()) === null || Date.now() - lastRefresh > 600000) {
      lastRefresh = Date.now();
      refresh();
    } else {
      show();
    }
  });
  refresh();
}

const panel = document.querySelector(".rate-panel[data-mode=verified]");
if (panel) setUp(panel);
