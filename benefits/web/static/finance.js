// Job pages (finance estimate, policy what-if): poll the job's JSON and move
// the progress bar; reload the page when the job has finished (done or
// failed, or its JSON says a first result is "ready" and data-ready on #job
// is not "1"). data-every on #job: milliseconds between polls (default 1000).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var bar = document.getElementById("job-bar");
  var done = document.getElementById("job-done");
  var total = document.getElementById("job-total");
  var status = document.getElementById("job-status");
  var every = parseInt(box.dataset.every || "1000", 10);

  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        // done or failed; or a first result ready to show before the job ends (job.ready)
        if (job.status === "done" || job.status === "failed" || (job.ready && box.dataset.ready !== "1")) {
          window.location.reload();
          return;
        }
        status.textContent = job.status_zh;
        done.textContent = job.processed;
        if (job.total) {
          bar.max = job.total;
          bar.value = job.processed;
          total.textContent = job.total;
        }
        window.setTimeout(poll, every);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, Math.min(every, 500));
}());
