// Enhancements only: every page works without this file.
import { initAll } from "./govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// Progress: fetch the panel again every second (a fragment, no long-lived connection), and
// reload the whole page once the job is no longer sending, to show its results.
const holder = document.querySelector("[data-progress-url]");
if (holder) {
  const url = holder.dataset.progressUrl;
  const poll = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "x-fragment": "1" } });
      if (response.redirected || !response.ok) { window.location.reload(); return; }
      const state = response.headers.get("x-job-state");
      if (state === "queued" || state === "running") {
        holder.innerHTML = await response.text();
      } else if (state !== "checking") {
        window.location.reload();
        return;
      }
    } catch (error) {
      // the server may be restarting: keep trying
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 1000);
}
