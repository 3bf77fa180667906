// MarketDesk shell behaviour: select-all for bulk actions, and htmx error reporting.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.matches("[data-select-all]")) {
    document.querySelectorAll(box.dataset.selectAll).forEach((row) => { row.checked = box.checked; });
  }
});
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const holder = document.querySelector(".md-messages") || document.querySelector("main");
  if (holder) {
    const alert = document.createElement("div");
    alert.className = "alert alert-danger py-2";
    alert.textContent = document.documentElement.lang.startsWith("zh") ? `请求失败（${status}），请重试。` : `The request failed (${status}). Please try again.`;
    holder.prepend(alert);
  }
});

// Open the tab named in the URL hash (#tab-timeline), so returning to a record keeps its tab.
document.addEventListener("DOMContentLoaded", () => {
  const hash = window.location.hash;
  if (!hash.startsWith("#tab-") || !window.bootstrap) return;
  const trigger = document.querySelector(`[data-bs-target="${hash}"]`);
  if (trigger) window.bootstrap.Tab.getOrCreateInstance(trigger).show();
});
document.addEventListener("shown.bs.tab", (event) => {
  const target = event.target.getAttribute("data-bs-target");
  if (target && target.startsWith("#tab-")) history.replaceState(null, "", target);
});

// Charts: <div data-chart="ID"> takes its ECharts option from the JSON script #ID.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.echarts) return;
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const source = document.getElementById(element.dataset.chart);
    if (!source) return;
    const chart = window.echarts.init(element);
    chart.setOption(JSON.parse(source.textContent));
    new ResizeObserver(() => chart.resize()).observe(element);
  });
});

// Visit check-in (follow-ups): fill the hidden latitude/longitude from the phone's position.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-md-checkin]");
  if (!button || !navigator.geolocation) return;
  const form = button.closest("form");
  const status = form.querySelector("[data-md-checkin-status]");
  button.disabled = true;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      form.querySelector("[name=latitude]").value = position.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = position.coords.longitude.toFixed(6);
      status.textContent = `${position.coords.latitude.toFixed(5)}, ${position.coords.longitude.toFixed(5)}`;
      button.disabled = false;
    },
    (error) => {
      status.textContent = error.message;
      button.disabled = false;
    },
    { enableHighAccuracy: true, timeout: 10000 },
  );
});
