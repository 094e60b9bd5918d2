/* Pulse verified rating: the anonymous tokens this phone holds (an ES module), in localStorage under
   "pulse.tokens". Only finished tokens are kept (a nonce and its authenticator, with the published key they
   were issued under): never a blind, which would let anyone holding it link a token to its issuance.

   One entry per thing the server issues, named as in the wire contract:
     "slot:<team>/<shift date>/<band>"  a rating token, spent once, for one team's shift
     "week:<team>/<week start>"         the team-week pseudonym, shown with each rating of that team-week
     "day:<shift date>"                 the organisation-day pseudonym, shown with each rating of that day
     "orgweek:<week start>"             the organisation-week pseudonym
   Pseudonyms are shared by every team a person rates for (one per person and day or week). */

const KEY = "pulse.tokens";
const DAY_MS = 86400000;
let memory = null; // when storage is switched off: kept for this visit only

export function slotId(teamId, shiftDate, bandId) {
  return `slot:${teamId}/${shiftDate}/${bandId}`;
}

/** The id of an entry of the token-keys list, an issuance request or its answer. */
export function entryId(entry) {
  switch (entry.kind) {
    case "slot":
      return slotId(entry.team_id, entry.shift_date, entry.band_id);
    case "week":
      return `week:${entry.team_id}/${entry.week_start}`;
    case "day":
      return `day:${entry.shift_date}`;
    case "orgweek":
      return `orgweek:${entry.week_start}`;
    default:
      return null;
  }
}

/** The Monday (ISO date) of the ISO week holding `isoDate`; pure date arithmetic, no time zone. */
export function mondayOf(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

export function addDays(isoDate, days) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day) + days * DAY_MS).toISOString().slice(0, 10);
}

function isEntry(value) {
  return !!value && typeof value.nonce === "string" && typeof value.authenticator === "string" &&
    typeof value.key === "string" && typeof value.date === "string";
}

function read() {
  let raw;
  try {
    raw = window.localStorage.getItem(KEY);
  } catch (error) {
    return { ...(memory || {}) };
  }
  try {
    const parsed = JSON.parse(raw || "{}");
    const entries = {};
    for (const [id, value] of Object.entries(parsed.entries || {})) if (isEntry(value)) entries[id] = value;
    return entries;
  } catch (error) {
    return {};
  }
}

function write(entries) {
  memory = { ...entries };
  try {
    window.localStorage.setItem(KEY, JSON.stringify({ v: 1, entries }));
  } catch (error) {
    // kept in memory for this visit
  }
}

/** Reads the tokens afresh, lets `change` edit them, and writes them back: another tab may have written. */
export function update(change) {
  const entries = read();
  change(entries);
  write(entries);
}

export function has(id) {
  return Object.prototype.hasOwnProperty.call(read(), id);
}

export function heldIds() {
  return new Set(Object.keys(read()));
}

/** Keeps a finished token: `date` is its shift date or week start, for forgetting it once it is over. */
export function keep(entries, id, token, publicKeyB64, date) {
  entries[id] = { nonce: token.nonceB64, authenticator: token.authenticatorB64, key: publicKeyB64, date };
}

/** Forgets tokens whose key is no longer the published one (the server's keys changed): they cannot count. */
export function forgetReplaced(published) {
  update((entries) => {
    for (const [id, entry] of Object.entries(entries)) {
      if (published.has(id) && published.get(id).public_key !== entry.key) delete entries[id];
    }
  });
}

/** Forgets everything dated before `oldest` (an ISO date): those shifts and weeks are over. */
export function forgetBefore(oldest) {
  const oldestWeek = mondayOf(oldest);
  update((entries) => {
    for (const [id, entry] of Object.entries(entries)) {
      const weekly = id.startsWith("week:") || id.startsWith("orgweek:");
      if (entry.date < (weekly ? oldestWeek : oldest)) delete entries[id];
    }
  });
}

export function remove(teamId, slot) {
  update((entries) => {
    delete entries[slotId(teamId, slot.shift_date, slot.band_id)];
  });
}

/** The ids of what a rating for `slot` carries, by the rating's field names. */
export function fieldIds(teamId, slot) {
  const week = mondayOf(slot.shift_date);
  return {
    token: slotId(teamId, slot.shift_date, slot.band_id),
    week_pseudonym: `week:${teamId}/${week}`,
    day_pseudonym: `day:${slot.shift_date}`,
    orgweek_pseudonym: `orgweek:${week}`
  };
}

export function forget(ids) {
  update((entries) => {
    for (const id of ids) delete entries[id];
  });
}

function proof(entry) {
  return { nonce: entry.nonce, authenticator: entry.authenticator };
}

/** What a rating for `slot` ({shift_date, band_id}) of team `teamId` carries, or null if a part is missing:
    the slot's token and the pseudonyms of its team-week, its day and its organisation-week. */
export function spendFields(teamId, slot) {
  const entries = read();
  const ids = fieldIds(teamId, slot);
  const token = entries[ids.token];
  const weekPseudonym = entries[ids.week_pseudonym];
  const dayPseudonym = entries[ids.day_pseudonym];
  const orgweekPseudonym = entries[ids.orgweek_pseudonym];
  if (!token || !weekPseudonym || !dayPseudonym || !orgweekPseudonym) return null;
  return {
    token: { shift_date: slot.shift_date, band_id: slot.band_id, ...proof(token) },
    week_pseudonym: proof(weekPseudonym),
    day_pseudonym: proof(dayPseudonym),
    orgweek_pseudonym: proof(orgweekPseudonym)
  };
}
