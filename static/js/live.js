// Live figures on the overview: poll the real-time endpoint and update the marked fields.
(function () {
  const tiles = document.querySelector("[data-live-url]");
  if (!tiles) return;
  const url = tiles.dataset.liveUrl;
  const tenant = tiles.dataset.tenant;
  // The same CLDR rules as the server's Babel formatting: en_US -> en-US for Intl.
  const locale = (tiles.dataset.locale || "en_US").replace("_", "-");
  function money(value, currency) {
    if (value === null || value === undefined) return "—";
    return new Intl.NumberFormat(locale, { style: "currency", currency: currency }).format(Number(value));
  }
  async function refresh() {
    try {
      const response = await fetch(url, { headers: { "X-Tenant": tenant, Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      document.querySelectorAll("[data-live-field]").forEach(function (element) {
        const value = data[element.dataset.liveField];
        if (value === undefined) return;
        element.textContent = element.dataset.currency ? money(value, element.dataset.currency) : (value === null ? "no events yet" : value);
      });
    } catch (error) {
      // A missed refresh is shown by the unchanged "as of" time; the next one retries.
    }
  }
  setInterval(refresh, 30000);
})();
