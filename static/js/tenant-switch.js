// The tenant switcher in the header: choosing a tenant opens its overview.
(function () {
  const select = document.getElementById("tenant-switch");
  if (!select) return;
  select.addEventListener("change", function () {
    if (select.value) window.location = select.value;
  });
})();
