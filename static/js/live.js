// Live figures on the overview: poll the real-time endpoint and update the marked fields.
(function () {
  const tiles = document.querySelector("[data-live-url]");
  if (!tiles) return;
  const url = tiles.dataset.liveUrl;
  const tenant = tiles.dataset.tenant;
  const symbols = { USD: "$", EUR: "€", GBP: "£", JPY: "¥" };
  function money(value, currency) {
    if (value === null || value === undefined) return "—";
    const amount = Number(value);
    const text = Math.abs(amount).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return (amount < 0 ? "-" : "") + (symbols[currency] || currency + " ") + text;
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
