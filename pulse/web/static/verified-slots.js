/* Pulse verified rating: which shift slot is open for rating when (an ES module). The page carries the
   server's timeline (pulse/services/shift_timeline.py) from now to the end of next week, so that the phone
   chooses, offline too, the slot whose token a tap spends; the server still decides, and names the open
   slot if the phone chose another (its clock may be a little off). */

import { spendFields } from "./verified-store.js";

/** The timeline from an element's data-slots: [{ date, band_id, band, from, until }] (ms since the epoch). */
export function readTimeline(element) {
  try {
    const spans = JSON.parse(element.getAttribute("data-slots") || "[]");
    return Array.isArray(spans)
      ? spans.filter((s) => s && typeof s.from === "number" && typeof s.until === "number")
      : [];
  } catch (error) {
    return [];
  }
}

function asSlot(span) {
  return { shift_date: span.date, band_id: span.band_id, band: span.band };
}

/** The slot a rating made at `ms` counts for, or null when none is open (or the timeline has run out). */
export function slotAt(timeline, ms) {
  const span = timeline.find((s) => s.from <= ms && ms < s.until);
  return span ? asSlot(span) : null;
}

/** Whether the timeline still covers `ms`: if not, this page is too old to tell the open slot. */
export function covers(timeline, ms) {
  return timeline.length > 0 && ms < timeline[timeline.length - 1].until;
}

/** Each slot that is open now or later, once, in time order. */
export function comingSlots(timeline, ms) {
  const seen = new Set();
  const slots = [];
  for (const span of timeline) {
    const id = `${span.date}/${span.band_id}`;
    if (span.until > ms && !seen.has(id)) {
      seen.add(id);
      slots.push(asSlot(span));
    }
  }
  return slots;
}

/** Whether the slot (shift date, band id) is still to close for rating, as far as the timeline knows:
    true for a slot it does not hold at a date it reaches (the server then decides). */
export function stillOpen(timeline, ms, shiftDate, bandId) {
  const spans = timeline.filter((s) => s.date === shiftDate && s.band_id === bandId);
  if (spans.length) return spans.some((s) => s.until > ms);
  return timeline.length > 0 && shiftDate >= timeline[0].date;
}

/** How many coming slots of team `teamId` this phone can rate (a token and every pseudonym held). */
export function readyCount(timeline, ms, teamId) {
  return comingSlots(timeline, ms).filter((slot) => spendFields(teamId, slot) !== null).length;
}

export function readyWords(count) {
  if (count === 0) return "";
  return count === 1
    ? "This phone is ready for your next shift."
    : `This phone is ready for your next ${count} shifts.`;
}
