/* Pulse verified rating: fetching this phone's anonymous tokens for a team (an ES module).

   1. GET the team's published keys for this week and the next (no credential: the same list for everyone);
   2. for every slot still to close that the phone holds no token for, and the pseudonyms those slots need,
      blind a token under the slot's published key (tokens.js, loaded only now);
   3. POST them in one batch with the device credential;
   4. check each answer's proof against the PUBLISHED key, never a key the answer brings, and keep the
      finished tokens (verified-store.js). A token whose proof fails is refused: a server that signed this
      phone's tokens with a key of its own could recognise its ratings later.
   Blinds live in memory only. If an answer is lost, the same blinded elements are sent again from this
   page (the server evaluates a repeated element again, which gives the same token, not a second one). */

import * as store from "./verified-store.js";
import { stillOpen } from "./verified-slots.js";

const MAX_REQUESTS = 512; // per POST, as the API takes
const CREDENTIAL = /^[A-Za-z0-9_-]{43,128}$/;
const pending = new Map(); // entry id -> { prepared, publicKey }: blinded and sent, answer not yet in

/** The device credential enrolment left in this browser, or null. */
export function storedCredential() {
  try {
    const value = window.localStorage.getItem("pulse.device-credential");
    return value && CREDENTIAL.test(value) ? value : null;
  } catch (error) {
    return null;
  }
}

class Outcome extends Error {
  constructor(kind, detail) {
    super(detail || kind);
    this.kind = kind;
    this.detail = detail || "";
  }
}

async function problemDetail(response) {
  try {
    return (await response.json()).detail || "";
  } catch (error) {
    return "";
  }
}

async function send(url, options) {
  try {
    return await fetch(url, { credentials: "omit", referrerPolicy: "no-referrer", ...options });
  } catch (error) {
    throw new Outcome("offline");
  }
}

/** The published keys of team `teamId` for each week, by entry id. */
async function publishedKeys(keysEndpoint, teamId, weeks) {
  const published = new Map();
  for (const week of weeks) {
    const query = `?team_id=${encodeURIComponent(teamId)}&week=${encodeURIComponent(week)}`;
    // Revalidated every time: a list cached from before a key change would make honest tokens fail the check.
    const response = await send(keysEndpoint + query, { headers: { Accept: "application/json" }, cache: "no-cache" });
    if (response.status === 422) continue; // not this week or the next any more (the page is old)
    if (response.status === 404) throw new Outcome("not-verified", await problemDetail(response));
    if (response.status !== 200) throw new Outcome("failed");
    const body = await response.json();
    for (const entry of body.keys || []) {
      const id = store.entryId(entry);
      if (id && typeof entry.public_key === "string") published.set(id, entry);
    }
  }
  return published;
}

/** What to ask for: slots of the team still to close that the phone has no token for, and the pseudonyms
    that the phone's slots (held or asked for) need and it lacks. */
function wanted(published, held, teamId, timeline, now) {
  const slots = [...published.values()].filter(
    (e) => e.kind === "slot" && e.team_id === teamId && stillOpen(timeline, now, e.shift_date, e.band_id)
  );
  const needed = new Set();
  for (const slot of slots) {
    const week = store.mondayOf(slot.shift_date);
    needed.add(store.entryId(slot));
    needed.add(`week:${teamId}/${week}`);
    needed.add(`day:${slot.shift_date}`);
    needed.add(`orgweek:${week}`);
  }
  return [...needed].filter((id) => !held.has(id) && published.has(id)).map((id) => published.get(id));
}

// The fields that name what is asked for, per kind, as in the wire contract.
const NAMING = {
  slot: ["team_id", "shift_date", "band_id"],
  week: ["team_id", "week_start"],
  day: ["shift_date"],
  orgweek: ["week_start"]
};

function requestOf(entry, blindedB64) {
  const request = { kind: entry.kind };
  for (const field of NAMING[entry.kind]) request[field] = entry[field];
  request.blinded = blindedB64;
  return request;
}

async function issue(tokensEndpoint, credential, requests) {
  const options = {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      Authorization: `Bearer ${credential}`
    },
    body: JSON.stringify({ requests }),
    cache: "no-store"
  };
  let response;
  try {
    response = await send(tokensEndpoint, options);
  } catch (error) {
    response = await send(tokensEndpoint, options); // once more, with the same blinded elements
  }
  if (response.status === 401) throw new Outcome("enrolment-needed", await problemDetail(response));
  if (response.status === 403) throw new Outcome("forbidden", await problemDetail(response));
  if (response.status !== 200) throw new Outcome("failed", await problemDetail(response));
  return response.json();
}

function withLock(task) {
  // Two tabs fetching at once would each blind their own tokens; the second would be refused.
  if (navigator.locks && navigator.locks.request) return navigator.locks.request("pulse.tokens", task);
  return task();
}

/** Answers the person's teams (with their join codes): an empty request, as after enrolment. */
export async function myTeams(tokensEndpoint, credential) {
  try {
    return (await issue(tokensEndpoint, credential, [])).teams || [];
  } catch (error) {
    if (error instanceof Outcome) return { outcome: error.kind, detail: error.detail };
    throw error;
  }
}

/** Fetches the tokens team `teamId` still needs. Resolves with { outcome, detail, issued, refused }:
    outcome "ready", "offline", "enrolment-needed", "forbidden", "not-verified", "not-your-team",
    "keys-refused" (an answer's proof failed against the published key) or "failed". */
export function refreshTokens({ keysEndpoint, tokensEndpoint, teamId, weeks, timeline, today }) {
  return withLock(async () => {
    const credential = storedCredential();
    if (!credential) return { outcome: "enrolment-needed", detail: "", issued: 0, refused: [] };
    try {
      store.forgetBefore(store.addDays(today, -1));
      const published = await publishedKeys(keysEndpoint, teamId, weeks);
      store.forgetReplaced(published);
      const asked = wanted(published, store.heldIds(), teamId, timeline, Date.now());
      if (!asked.length) return { outcome: "ready", detail: "", issued: 0, refused: [] };
      const tokens = await import("./tokens.js");
      for (const entry of asked) {
        const id = store.entryId(entry);
        const before = pending.get(id);
        if (!before || before.publicKey !== entry.public_key) {
          pending.set(id, { prepared: await tokens.prepareToken(entry.public_key), publicKey: entry.public_key });
        }
      }
      let issued = 0;
      let mismatched = 0;
      const refused = [];
      for (let first = 0; first < asked.length; first += MAX_REQUESTS) {
        const batch = asked.slice(first, first + MAX_REQUESTS);
        const requests = batch.map((e) => requestOf(e, pending.get(store.entryId(e)).prepared.blindedB64));
        const answer = await issue(tokensEndpoint, credential, requests);
        const finished = [];
        for (const item of answer.issued || []) {
          const id = store.entryId(item);
          const sent = pending.get(id);
          const entry = published.get(id);
          if (!sent || !entry) continue;
          pending.delete(id);
          try {
            // The published key, as fetched above: never one that the answer might bring along.
            const token = await tokens.finishToken(sent.prepared.state, item.evaluation, entry.public_key);
            finished.push([id, token, entry]);
          } catch (error) {
            if (!(error instanceof tokens.TokenIssuanceError)) throw error;
            mismatched += 1;
          }
        }
        store.update((entries) => {
          for (const [id, token, entry] of finished) {
            store.keep(entries, id, token, entry.public_key, entry.shift_date || entry.week_start);
          }
        });
        issued += finished.length;
        for (const item of answer.refused || []) {
          pending.delete(store.entryId(item));
          refused.push(item);
        }
      }
      if (mismatched) return { outcome: "keys-refused", detail: "", issued, refused };
      const slotsRefused = refused.filter((r) => r.kind === "slot");
      const askedSlots = asked.filter((e) => e.kind === "slot").length;
      if (askedSlots && slotsRefused.length === askedSlots && slotsRefused.every((r) => r.reason === "not-your-team")) {
        return { outcome: "not-your-team", detail: slotsRefused[0].detail || "", issued, refused };
      }
      return { outcome: "ready", detail: "", issued, refused };
    } catch (error) {
      if (error instanceof Outcome) return { outcome: error.kind, detail: error.detail, issued: 0, refused: [] };
      throw error;
    }
  });
}
