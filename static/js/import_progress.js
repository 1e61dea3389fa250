// Polls the import job status and shows "đã xử lý N / M dòng"; reloads the page (which then shows the
// result and the per-row report) when the job has finished.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var stage = document.getElementById("import-stage");
  var count = document.getElementById("import-count");
  var bar = document.getElementById("import-bar");
  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (status) {
        stage.textContent = status.stage_label;
        count.textContent = status.progress_text;
        bar.max = Math.max(status.total, 1);
        bar.value = status.done;
        if (status.finished) { window.location.reload(); } else { window.setTimeout(poll, 700); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
