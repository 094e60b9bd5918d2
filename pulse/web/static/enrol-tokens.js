/* Pulse enrolment page, in verified rating (an ES module): once the phone is enrolled, link each of the
   person's teams to its rating page and fetch the phone's tokens for them at once, so that it can rate this
   week and the next, offline too. Uses enrol.js's hook (window.PulseEnrolment, loaded before this). */

import { myTeams, refreshTokens } from "./verified-issue.js";
import { readTimeline, readyCount } from "./verified-slots.js";

const NOT_READY =
  "This phone is enrolled, but it could not fetch its rating tokens yet. Open your team's rating page when " +
  "you are online and it will.";
const KEYS_REFUSED =
  "This phone refused rating tokens from Pulse, because they were not made with the keys Pulse publishes " +
  "for everyone. Please tell the team that runs Pulse in your organisation.";

function linkTeams(teams) {
  const list = document.getElementById("done-teams");
  if (!list) return;
  list.replaceChildren(
    ...teams.map((team) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/r/${encodeURIComponent(team.join_code)}`;
      link.textContent = team.department ? `${team.name} (${team.department})` : team.name;
      item.appendChild(link);
      return item;
    })
  );
}

function readyLine(results) {
  const parts = results.filter((r) => r.count > 0).map((r) => `${r.count} shifts for ${r.team.name}`);
  if (!parts.length) return "";
  return `This phone is ready to rate your next ${parts.join(", and ")}.`;
}

async function getReady(page) {
  const tokensEndpoint = page.getAttribute("data-tokens-endpoint");
  const keysEndpoint = page.getAttribute("data-keys-endpoint");
  const timeline = readTimeline(page);
  const weeks = (page.getAttribute("data-weeks") || "").split(" ").filter(Boolean);
  const status = window.PulseEnrolment.status;
  const credential = window.PulseEnrolment.credential();
  if (!credential || !tokensEndpoint) return;
  status("Getting this phone ready to rate...");
  const teams = await myTeams(tokensEndpoint, credential);
  if (!Array.isArray(teams)) {
    status(NOT_READY);
    return;
  }
  linkTeams(teams);
  const today = timeline.length ? timeline[0].date : new Date().toISOString().slice(0, 10);
  const results = [];
  for (const team of teams) {
    const result = await refreshTokens({ keysEndpoint, tokensEndpoint, teamId: team.id, weeks, timeline, today });
    if (result.outcome === "keys-refused") {
      status(KEYS_REFUSED);
      return;
    }
    results.push({ team, count: readyCount(timeline, Date.now(), team.id) });
  }
  status(readyLine(results) || NOT_READY);
}

const page = document.getElementById("enrol");
if (page && page.getAttribute("data-tokens-endpoint") && window.PulseEnrolment) {
  let started = false;
  window.PulseEnrolment.onEnrolled(() => {
    if (started) return;
    started = true;
    getReady(page).catch(() => window.PulseEnrolment.status(NOT_READY));
  });
}
