// Live figures on the overview: every 30 seconds, fetch the figures fragment the server
// renders from the same service as the page (so every figure, comparison and the "as of"
// time refresh, formatted exactly as on first load) and swap it in when it changed.
(function () {
  const region = document.getElementById("overview-live");
  if (!region) return;
  const url = region.dataset.liveUrl;
  let last = null;
  async function refresh() {
    try {
      // Marked as background: polling must not keep an idle elevated session alive
      // (governance/session_limits.py); once signed out, reloading shows the sign-in page and why.
      const response = await fetch(url, {
        headers: { Accept: "text/html", "X-BizValue-Background": "1" },
        credentials: "same-origin",
        redirect: "manual",
      });
      if (response.status === 401 || response.type === "opaqueredirect") {
        window.location.reload();
        return;
      }
      if (!response.ok) return;
      const html = await response.text();
      // Unchanged figures leave the page alone (keyboard focus and selection stay put).
      if (html === last) return;
      last = html;
      region.innerHTML = html;
    } catch (error) {
      // A missed refresh is shown by the unchanged "as of" time; the next one retries.
    }
  }
  setInterval(refresh, 30000);
})();
